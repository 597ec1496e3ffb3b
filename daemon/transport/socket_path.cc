// Socket path preparation; see socket_path.h.
#include "daemon/transport/socket_path.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unix_socket.h"
#include "glog/logging.h"

namespace swift {
namespace {

absl::Status MakeParentDirectory(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) {
    return absl::OkStatus();
  }
  const std::string directory = path.substr(0, slash);
  struct stat info;
  if (stat(directory.c_str(), &info) == 0) {
    return S_ISDIR(info.st_mode)
               ? absl::OkStatus()
               : absl::FailedPreconditionError(
                     absl::StrCat(directory, " exists and is not a directory"));
  }
  if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("mkdir(", directory, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckPathLength(const std::string& path) {
  if (path.empty() || path.size() > kMaxUnixSocketPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("--socket must be 1 to ", kMaxUnixSocketPath,
                     " bytes long (sockaddr_un), got ", path.size()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SocketLock> SocketLock::Acquire(absl::string_view path_view) {
  const std::string path(path_view);
  if (absl::Status status = CheckPathLength(path); !status.ok()) {
    return status;
  }
  if (absl::Status status = MakeParentDirectory(path); !status.ok()) {
    return status;
  }
  std::string lock_path = path + ".lock";
  UniqueFd fd(open(lock_path.c_str(),
                   O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
                   0600));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("open(", lock_path, ")"));
  }
  struct stat info;
  if (fstat(fd.get(), &info) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fstat(", lock_path, ")"));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(lock_path, " is not a regular file"));
  }
  while (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) {
      continue;
    }
    if (errno == EWOULDBLOCK) {
      return absl::AlreadyExistsError(absl::StrCat(
          "another process (a running swiftd?) holds ", lock_path,
          " and serves on ", path, "; stop it or choose another --socket"));
    }
    return ErrnoStatus(errno, absl::StrCat("flock(", lock_path, ")"));
  }
  return SocketLock(std::move(lock_path), std::move(fd));
}

absl::Status PrepareSocketPath(absl::string_view path_view) {
  const std::string path(path_view);
  if (absl::Status status = CheckPathLength(path); !status.ok()) {
    return status;
  }
  if (absl::Status status = MakeParentDirectory(path); !status.ok()) {
    return status;
  }
  struct stat info;
  if (lstat(path.c_str(), &info) != 0) {
    return errno == ENOENT
               ? absl::OkStatus()
               : ErrnoStatus(errno, absl::StrCat("stat(", path, ")"));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " exists and is not a socket; refusing to remove it"));
  }
  absl::Status probe = ProbeUnixSocket(path);
  if (probe.ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("another process (a running swiftd?) is serving on ", path,
                     "; stop it or choose another --socket"));
  }
  if (!absl::IsUnavailable(probe)) {
    return probe;
  }
  LOG(WARNING) << "Removing stale socket " << path
               << " (left by a swiftd that did not shut down cleanly)";
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("unlink(", path, ")"));
  }
  return absl::OkStatus();
}

absl::Status SecureSocket(absl::string_view path_view, mode_t mode,
                          absl::string_view group_view) {
  const std::string path(path_view);
  if (!group_view.empty()) {
    const std::string group(group_view);
    errno = 0;
    struct group* entry = getgrnam(group.c_str());
    if (entry == nullptr) {
      return errno == 0
                 ? absl::NotFoundError(absl::StrCat(
                       "group '", group, "' does not exist (--socket_group)"))
                 : ErrnoStatus(errno, absl::StrCat("getgrnam(", group, ")"));
    }
    if (chown(path.c_str(), static_cast<uid_t>(-1), entry->gr_gid) != 0) {
      return ErrnoStatus(errno, absl::StrCat("chown(", path, ", ", group, ")"));
    }
  }
  if (chmod(path.c_str(), mode) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chmod(", path, ")"));
  }
  return absl::OkStatus();
}

void RemoveSocket(absl::string_view path) {
  const std::string path_string(path);
  if (unlink(path_string.c_str()) != 0 && errno != ENOENT) {
    PLOG(ERROR) << "unlink(" << path_string << ")";
  }
}

}  // namespace swift
