// Who may register and unregister which functions, and as whom they run.
//
// A function's worker runs code from a library the caller names, as a
// user swiftd switches to (swiftd runs as root). Any member of the socket's
// group can reach swiftd, so the caller's own credentials, as the kernel
// reports them on the Unix socket (SO_PEERCRED), bound what it may ask for:
// only root may run a function as another user, and a function may be
// invoked (or unregistered) only by root or by the user it runs as: its
// results, its connections and its worker's resources are that user's.
#ifndef SWIFT_DAEMON_FUNCTIONS_FUNCTION_ACCESS_H_
#define SWIFT_DAEMON_FUNCTIONS_FUNCTION_ACCESS_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "proto/swift.pb.h"

namespace swift {

// A caller's identity as the kernel vouches for it.
struct CallerCredentials {
  uid_t uid = 0;
  gid_t gid = 0;
};

// AuthorizeRegistration()
//
// Fills in who `request`'s function runs as: uid 0 in the request means
// the caller itself (and its gid), unless run_as_set says the uid was
// named explicitly (then uid 0 is root); a root caller may name any uid
// and gid (gid 0 then means that user's primary group). kPermissionDenied,
// naming both users, when a non-root caller names another uid or gid, root
// included: an explicit request is refused, never quietly rewritten.
absl::Status AuthorizeRegistration(const CallerCredentials& caller,
                                   v1::RegisterFunctionRequest& request);

// AuthorizeUnregistration()
//
// OK for root and for the user the function (`registered`, as authorized
// at registration) runs as; kPermissionDenied otherwise.
absl::Status AuthorizeUnregistration(
    const CallerCredentials& caller,
    const v1::RegisterFunctionRequest& registered);

// AuthorizeInvocation()
//
// OK for root and for the user the function runs as; kPermissionDenied
// otherwise, naming the function's user. Also decides who may open a
// direct channel to the function's worker.
absl::Status AuthorizeInvocation(const CallerCredentials& caller,
                                 const v1::RegisterFunctionRequest& registered);

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_FUNCTION_ACCESS_H_
