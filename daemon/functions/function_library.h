// CheckFunctionLibrary(): whether a function's worker may load the library
// its registration names, decided before the worker starts.
//
// Two rules, in this order:
// 1. The library is opened *as the tenant* (the uid, gid and groups the
//    worker will run as; in a child process that switched to them), never
//    as swiftd: swiftd is root and reaches every file, so an answer it gave
//    from its own view would tell a tenant which files exist where it may
//    not look (an existence oracle). A library that is missing and one the
//    tenant may not read get the same error, and nothing else is looked at
//    before the tenant has opened the file.
// 2. Nobody but root, swiftd's own user and the function's user may change
//    the code the worker runs: the library and every directory and link
//    on its path (ResolveTrustedPath()). A world-writable library would
//    otherwise let any user run code as the function's user, root
//    included.
#ifndef SWIFT_DAEMON_FUNCTIONS_FUNCTION_LIBRARY_H_
#define SWIFT_DAEMON_FUNCTIONS_FUNCTION_LIBRARY_H_

#include <string>

#include "absl/status/status.h"
#include "daemon/functions/tenant_identity.h"

namespace swift {

// CheckFunctionLibrary()
//
// OK when `identity` can open `library_path` (absolute) for reading, it is
// a regular file, and only trusted users (above) could change it. Errors:
// kNotFound "no readable function library at PATH ..." whether it is
// missing or the tenant may not read it; kFailedPrecondition when it is
// not a regular file; kPermissionDenied naming the first path on the way
// that other users could change (mode, owner, group), or when the check
// could not switch to the tenant; the errno status of fork().
absl::Status CheckFunctionLibrary(const TenantIdentity& identity,
                                  const std::string& library_path);

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_FUNCTION_LIBRARY_H_
