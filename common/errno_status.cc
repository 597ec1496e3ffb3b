// Implementation of the errno-to-status mapping; see errno_status.h.
#include "common/errno_status.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swift {

absl::StatusCode ErrnoToCode(int error_number) {
  switch (error_number) {
    case EACCES:
    case EPERM:
      return absl::StatusCode::kPermissionDenied;
    case EOPNOTSUPP:
    case ENOSYS:
      return absl::StatusCode::kUnimplemented;
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return absl::StatusCode::kNotFound;
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case EAGAIN:
      return absl::StatusCode::kResourceExhausted;
    case EINVAL:
      return absl::StatusCode::kInvalidArgument;
    case EBUSY:
    case EEXIST:
    case EROFS:  // The operator must make it writable first.
      return absl::StatusCode::kFailedPrecondition;
    case ETIMEDOUT:
      return absl::StatusCode::kDeadlineExceeded;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENETUNREACH:
    case EHOSTUNREACH:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status ErrnoStatus(int error_number, absl::string_view what) {
  if (error_number == 0) {
    return absl::InternalError(
        absl::StrCat(what, ": failed without an errno value"));
  }
  return absl::Status(ErrnoToCode(error_number),
                      absl::StrCat(what, ": ", std::strerror(error_number)));
}

}  // namespace swift
