// Turns a failed system or verbs call into an absl::Status.
//
// Swift's one errno-to-status mapping: every layer uses it, so a caller can
// branch on the code (kPermissionDenied, kUnimplemented, ...) and a person
// reads which call failed on which object and why.
//
// Verbs report errors in two ways (see the rdma-core man pages): creators
// return NULL and set errno (pass `errno`), int verbs return the errno value
// itself (pass the return value).
#ifndef SWIFT_COMMON_ERRNO_STATUS_H_
#define SWIFT_COMMON_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace swift {

// ErrnoStatus()
//
// Returns a non-OK status for `error_number`, with the message
// "<what>: <strerror text>", e.g. "ibv_alloc_pd(rxe0): Cannot allocate
// memory". The code follows Swift's table: EACCES/EPERM -> kPermissionDenied,
// EOPNOTSUPP/ENOSYS -> kUnimplemented, ENOENT/ENODEV -> kNotFound,
// ENOMEM/ENOSPC/EMFILE/ENFILE/EAGAIN -> kResourceExhausted, EINVAL ->
// kInvalidArgument, EBUSY/EEXIST -> kFailedPrecondition, ETIMEDOUT ->
// kDeadlineExceeded, ECONNREFUSED/ECONNRESET/EPIPE/ENETUNREACH ->
// kUnavailable, anything else kInternal. `error_number` 0 (a caller that
// forgot to capture errno) still yields kInternal, never OK.
absl::Status ErrnoStatus(int error_number, absl::string_view what);

// ErrnoToCode()
//
// The code ErrnoStatus() uses for `error_number`.
absl::StatusCode ErrnoToCode(int error_number);

}  // namespace swift

#endif  // SWIFT_COMMON_ERRNO_STATUS_H_
