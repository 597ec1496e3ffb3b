// Preparing and securing the Unix socket path swiftd listens on.
//
// Two swiftds started at once on one path must not both get past the
// checks: the loser would remove the socket the winner listens on (gRPC
// unlinks an existing file before it binds). So a swiftd first takes the
// path's SocketLock, and only its holder prepares, binds and removes the
// socket files.
#ifndef SWIFT_DAEMON_TRANSPORT_SOCKET_PATH_H_
#define SWIFT_DAEMON_TRANSPORT_SOCKET_PATH_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace swift {

// SocketLock: the exclusive right to serve on a socket path, held while the
// object lives (an flock on "<path>.lock"; the kernel drops it when the
// process dies, so a crashed swiftd never blocks the next one). The lock
// file itself is left in place: unlinking it would let two processes lock
// two different files of the same name.
class SocketLock final {
 public:
  // Acquire()
  //
  // Takes the lock without waiting (creating the directory and the lock
  // file, mode 0600, as needed). kAlreadyExists when another process holds
  // it (a running swiftd on `path`); kInvalidArgument for a path that does
  // not fit in a sockaddr_un; other failures carry errno.
  static absl::StatusOr<SocketLock> Acquire(absl::string_view path);

  SocketLock(SocketLock&&) = default;
  SocketLock& operator=(SocketLock&&) = default;

  const std::string& lock_path() const { return lock_path_; }

 private:
  SocketLock(std::string lock_path, UniqueFd fd)
      : lock_path_(std::move(lock_path)), fd_(std::move(fd)) {}

  std::string lock_path_;
  UniqueFd fd_;
};

// PrepareSocketPath()
//
// Makes `path` ready to bind (call it holding the path's SocketLock): creates
// its directory (mode 0755) if missing and removes a stale socket file left by
// a swiftd that died. Fails with kAlreadyExists when another process is serving
// on `path`, with kFailedPrecondition when something other than a socket is at
// `path` (it is never removed), and kInvalidArgument when the path does not fit
// in a sockaddr_un.
absl::Status PrepareSocketPath(absl::string_view path);

// SecureSocket()
//
// Sets the socket file's mode (e.g. 0660) and, when `group` is not empty,
// its group, so that exactly the members of that group may connect.
// kNotFound when the group does not exist; other failures carry errno.
absl::Status SecureSocket(absl::string_view path, mode_t mode,
                          absl::string_view group);

// RemoveSocket()
//
// Unlinks the socket file at shutdown; a missing file is fine.
void RemoveSocket(absl::string_view path);

}  // namespace swift

#endif  // SWIFT_DAEMON_TRANSPORT_SOCKET_PATH_H_
