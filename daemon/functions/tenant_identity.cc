// TenantIdentity implementation; see tenant_identity.h.
#include "daemon/functions/tenant_identity.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"

namespace swift {
namespace {

// The primary group of `uid` from the user database, if it has an entry.
absl::StatusOr<gid_t> PrimaryGroup(uid_t uid) {
  passwd entry;
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "uid ", uid, " has no entry in the user database: give its gid"));
  }
  return entry.pw_gid;
}

// Whether `identity` gets `bits` (4 read, 2 write, 1 search) on a file
// with `info`, by the kernel's rule: the owner class if it owns the file,
// else the group class if it is in the file's group, else the others.
bool Allows(const struct stat& info, const TenantIdentity& identity,
            unsigned bits) {
  unsigned granted = info.st_mode & 07;
  if (info.st_uid == identity.uid) {
    granted = (info.st_mode >> 6) & 07;
  } else if (info.st_gid == identity.gid ||
             std::find(identity.groups.begin(), identity.groups.end(),
                       info.st_gid) != identity.groups.end()) {
    granted = (info.st_mode >> 3) & 07;
  }
  return (granted & bits) == bits;
}

std::string Describe(const std::string& path, const struct stat& info) {
  return absl::StrCat(path, " (mode ",
                      absl::StrFormat("%04o", info.st_mode & 0777), " owner ",
                      info.st_uid, " group ", info.st_gid, ")");
}

// Checks that `identity` may search every directory above `path`.
absl::Status CheckDirectories(const std::string& path,
                              const TenantIdentity& identity,
                              absl::string_view why) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string directory = path.substr(0, slash);
    struct stat info;
    if (stat(directory.c_str(), &info) == 0 && !Allows(info, identity, 1)) {
      return absl::FailedPreconditionError(
          absl::StrCat("a worker running as uid ", identity.uid, " could not ",
                       why, ": it may not enter ", Describe(directory, info)));
    }
  }
  return absl::OkStatus();
}

// Checks that `identity` may connect to `path` (write permission on a
// socket file), adding the socket's group to its groups when that is what
// grants it.
absl::Status CheckSocketAccess(const std::string& path,
                               TenantIdentity& identity) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    // swiftd has not created it (yet): nothing to check.
    return absl::OkStatus();
  }
  if (!Allows(info, identity, 2) && (info.st_mode & S_IWGRP) != 0 &&
      info.st_gid != 0) {
    identity.groups.push_back(info.st_gid);
  }
  if (!Allows(info, identity, 2)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a worker running as uid ", identity.uid, " could not connect to ",
        Describe(path, info),
        ": start swiftd with --socket_group=GROUP so that workers join that "
        "group"));
  }
  return CheckDirectories(path, identity,
                          absl::StrCat("connect to swiftd at ", path));
}

}  // namespace

absl::StatusOr<TenantIdentity> ResolveTenantIdentity(
    uid_t uid, gid_t gid, const std::vector<std::string>& sockets) {
  TenantIdentity identity;
  if (uid == 0 || uid == geteuid()) {
    return identity;  // As swiftd.
  }
  if (geteuid() != 0) {
    return absl::PermissionDeniedError(
        "running a function as another user needs swiftd to run as root");
  }
  identity.switch_user = true;
  identity.uid = uid;
  if (gid == 0) {
    absl::StatusOr<gid_t> primary = PrimaryGroup(uid);
    if (!primary.ok()) {
      return primary.status();
    }
    gid = *primary;
  }
  if (gid == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "uid ", uid, " would run in group 0 (root); give another gid"));
  }
  identity.gid = gid;
  for (const std::string& socket : sockets) {
    if (absl::Status access = CheckSocketAccess(socket, identity);
        !access.ok()) {
      return access;
    }
  }
  return identity;
}

bool ApplyTenantIdentity(const TenantIdentity& identity) {
  if (!identity.switch_user) {
    return true;
  }
  return setgroups(identity.groups.size(), identity.groups.data()) == 0 &&
         setgid(identity.gid) == 0 && setuid(identity.uid) == 0;
}

}  // namespace swift
