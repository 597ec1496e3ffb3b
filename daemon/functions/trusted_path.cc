// ResolveTrustedPath(); see trusted_path.h.
#include "daemon/functions/trusted_path.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/errno_status.h"
#include "common/status_macros.h"

namespace swift {
namespace {

// The kernel's own bound (MAXSYMLINKS).
constexpr int kMaxLinks = 40;

bool IsTrusted(uid_t uid, const std::vector<uid_t>& trusted) {
  return std::find(trusted.begin(), trusted.end(), uid) != trusted.end();
}

bool OthersMayWrite(const struct stat& info) {
  return (info.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

// "uid 0" or "uids 0 and 65534".
std::string Users(const std::vector<uid_t>& trusted) {
  std::vector<uid_t> unique = trusted;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  return absl::StrCat(unique.size() == 1 ? "uid " : "uids ",
                      absl::StrJoin(unique, " and "));
}

absl::Status Untrusted(const std::string& path, const struct stat& info,
                       absl::string_view why,
                       const std::vector<uid_t>& trusted) {
  return absl::PermissionDeniedError(absl::StrCat(
      path, " (mode ", absl::StrFormat("%04o", info.st_mode & 07777),
      ", owner uid ", info.st_uid, ", group ", info.st_gid, ") ", why,
      ": users other than ", Users(trusted), " could change it"));
}

// The object itself: a trusted owner, and nobody else may write it (a
// sticky directory excepted: CheckEntry() then checks what is in it).
absl::Status CheckObject(const std::string& path, const struct stat& info,
                         const std::vector<uid_t>& trusted) {
  if (!IsTrusted(info.st_uid, trusted)) {
    return Untrusted(path, info, "is owned by another user", trusted);
  }
  const bool sticky_directory =
      S_ISDIR(info.st_mode) && (info.st_mode & S_ISVTX) != 0;
  if (OthersMayWrite(info) && !sticky_directory) {
    return Untrusted(path, info, "is writable by group or others", trusted);
  }
  return absl::OkStatus();
}

// The entry `entry` of `directory` (checked already): in a directory others
// may write (sticky, or CheckObject() would have refused it) only an entry
// of a trusted owner cannot be replaced by them.
absl::Status CheckEntry(const std::string& directory,
                        const struct stat& directory_info,
                        const std::string& entry, const struct stat& info,
                        const std::vector<uid_t>& trusted) {
  if (!OthersMayWrite(directory_info) || IsTrusted(info.st_uid, trusted)) {
    return absl::OkStatus();
  }
  return Untrusted(entry, info,
                   absl::StrCat("is in ", directory,
                                ", which others may write, and is owned by "
                                "another user"),
                   trusted);
}

std::deque<std::string> Components(absl::string_view path) {
  std::deque<std::string> components;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part != ".") {
      components.emplace_back(part);
    }
  }
  return components;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

absl::StatusOr<std::string> ReadLink(const std::string& path) {
  std::string target(4096, '\0');
  const ssize_t length = readlink(path.c_str(), target.data(), target.size());
  if (length < 0) {
    return ErrnoStatus(errno, absl::StrCat("readlink(", path, ")"));
  }
  if (static_cast<size_t>(length) >= target.size() || length == 0) {
    return ErrnoStatus(ENAMETOOLONG, absl::StrCat("readlink(", path, ")"));
  }
  target.resize(static_cast<size_t>(length));
  return target;
}

absl::Status Lstat(const std::string& path, struct stat* info) {
  if (lstat(path.c_str(), info) != 0) {
    return ErrnoStatus(errno, absl::StrCat("lstat(", path, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrustedPath> ResolveTrustedPath(
    const std::string& path, const std::vector<uid_t>& trusted,
    bool create_directories) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not an absolute path"));
  }
  std::deque<std::string> pending = Components(path);
  // Invariant: every prefix of `at.resolved` has passed CheckObject() and,
  // below "/", CheckEntry() in its parent.
  TrustedPath at;
  at.resolved = "/";
  SWIFT_RETURN_IF_ERROR(Lstat(at.resolved, &at.info));
  SWIFT_RETURN_IF_ERROR(CheckObject(at.resolved, at.info, trusted));
  int links = 0;
  while (!pending.empty()) {
    const std::string name = std::move(pending.front());
    pending.pop_front();
    if (name == "..") {
      // A prefix of a checked path: checked already.
      at.resolved = Parent(at.resolved);
      SWIFT_RETURN_IF_ERROR(Lstat(at.resolved, &at.info));
      continue;
    }
    if (!S_ISDIR(at.info.st_mode)) {
      return ErrnoStatus(ENOTDIR, at.resolved);
    }
    const std::string next =
        at.resolved == "/" ? "/" + name : absl::StrCat(at.resolved, "/", name);
    struct stat info;
    if (lstat(next.c_str(), &info) != 0) {
      const int error = errno;
      if (error != ENOENT || !create_directories) {
        return ErrnoStatus(error, absl::StrCat("lstat(", next, ")"));
      }
      // The parent is trusted: only a sticky one lets another user race
      // us here, and then the entry's owner below gives it away.
      if (mkdir(next.c_str(), 0700) != 0 && errno != EEXIST) {
        return ErrnoStatus(errno, absl::StrCat("mkdir(", next, ")"));
      }
      SWIFT_RETURN_IF_ERROR(Lstat(next, &info));
    }
    SWIFT_RETURN_IF_ERROR(
        CheckEntry(at.resolved, at.info, next, info, trusted));
    if (S_ISLNK(info.st_mode)) {
      if (++links > kMaxLinks) {
        return ErrnoStatus(ELOOP, absl::StrCat("resolving ", path));
      }
      SWIFT_ASSIGN_OR_RETURN(const std::string target, ReadLink(next));
      std::deque<std::string> more = Components(target);
      pending.insert(pending.begin(), more.begin(), more.end());
      if (target[0] == '/') {
        at.resolved = "/";
        SWIFT_RETURN_IF_ERROR(Lstat(at.resolved, &at.info));
      }
      continue;
    }
    SWIFT_RETURN_IF_ERROR(CheckObject(next, info, trusted));
    at.resolved = next;
    at.info = info;
  }
  return at;
}

}  // namespace swift
