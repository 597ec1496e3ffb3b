// ResolveTrustedPath(): whether anybody but a few trusted users could change
// what a path names, or what it holds.
//
// swiftd (root) runs the library a function names and restores the
// registrations kept in its state directory. Whoever may replace either,
// or any directory or symbolic link on the way to it, may make swiftd run
// their code as the function's user (root included). A check of the last
// component alone is not enough: a tenant who owns /tmp/t may point
// /tmp/t/link at a directory root owns and later point it elsewhere. So the
// path is walked from "/" one component at a time, as the kernel resolves
// it, with lstat() (never following a link unchecked), every symbolic
// link's target walked the same way.
#ifndef SWIFT_DAEMON_FUNCTIONS_TRUSTED_PATH_H_
#define SWIFT_DAEMON_FUNCTIONS_TRUSTED_PATH_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swift {

// What ResolveTrustedPath() found.
struct TrustedPath {
  // The path with every symbolic link, ".", ".." and repeated '/'
  // resolved.
  std::string resolved;
  // lstat() of `resolved`.
  struct stat info;
};

// ResolveTrustedPath()
//
// Walks `path` (absolute) from "/". Every directory it looks a name up in
// and the object it ends at must be owned by a uid in `trusted` and not be
// writable by group or others, with one exception that keeps /tmp usable:
// a sticky directory (mode +t) others may write is fine when it is owned
// by a trusted uid and the entry looked up in it is too (the kernel lets
// nobody else rename or remove that entry). The owner of a symbolic link
// does not matter where its directory is trusted (nobody else could
// replace it); at most 40 links are followed (ELOOP beyond).
//
// With `create_directories`, a missing component is created (mkdir 0700,
// as the caller) in its trusted parent and then checked like the others,
// so that nothing is created below a directory another user controls.
//
// Errors: kInvalidArgument (not absolute), kPermissionDenied naming the
// first directory, link or object others could change (its mode, owner
// and group), the errno status of lstat/readlink/mkdir (kNotFound for a
// missing component), ENOTDIR's status when a component that must be a
// directory is not.
absl::StatusOr<TrustedPath> ResolveTrustedPath(
    const std::string& path, const std::vector<uid_t>& trusted,
    bool create_directories = false);

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_TRUSTED_PATH_H_
