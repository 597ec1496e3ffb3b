// TenantIdentity: who a function's worker runs as, resolved and checked by
// swiftd before it spawns the worker.
//
// A worker switched to a tenant's uid must not keep swiftd's privileges
// (root's supplementary groups, gid 0) and must still reach what it needs:
// swiftd's sockets, to broker its connections. Resolving this up front
// turns what would be an obscure failure inside the worker into a clear
// error at RegisterFunction.
#ifndef SWIFT_DAEMON_FUNCTIONS_TENANT_IDENTITY_H_
#define SWIFT_DAEMON_FUNCTIONS_TENANT_IDENTITY_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swift {

struct TenantIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  // The worker's supplementary groups, exactly: the group that lets it
  // reach swiftd's sockets, if it needs one; never swiftd's own groups.
  std::vector<gid_t> groups;
  // False when the worker runs as swiftd itself (uid 0 requested).
  bool switch_user = false;
};

// ResolveTenantIdentity()
//
// The identity for a worker asked to run as `uid`/`gid` (0 or swiftd's own
// uid = as swiftd;
// gid 0 with a uid means the user's primary group from the user
// database). `sockets` are the swiftd socket files the worker connects to.
// Errors: kPermissionDenied when swiftd is not root, kInvalidArgument when
// uid has no user entry and no gid was given or gid 0 (root's group) would
// result, kFailedPrecondition when the tenant could not connect to a
// socket or enter a directory above it (mode and group named, with the
// flag that fixes it).
absl::StatusOr<TenantIdentity> ResolveTenantIdentity(
    uid_t uid, gid_t gid, const std::vector<std::string>& sockets);

// (Whether the tenant may read the function library is decided by
// opening it as the tenant: CheckFunctionLibrary(), function_library.h.)

// ApplyTenantIdentity()
//
// In a freshly forked child before exec: sets the groups, gid and uid, in
// that order (after setuid the others are no longer allowed). Returns
// false on failure, with errno set. Async-signal-safe.
bool ApplyTenantIdentity(const TenantIdentity& identity);

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_TENANT_IDENTITY_H_
