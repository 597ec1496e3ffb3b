// Preparing and securing the Unix socket path swiftd listens on.
//
// Not thread-safe with respect to other processes racing for the same path;
// swiftd calls these once at start, before serving.
#ifndef SWIFT_DAEMON_TRANSPORT_SOCKET_PATH_H_
#define SWIFT_DAEMON_TRANSPORT_SOCKET_PATH_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace swift {

// PrepareSocketPath()
//
// Makes `path` ready to bind: creates its directory (mode 0755) if missing
// and removes a stale socket file left by a swiftd that died. Fails with
// kAlreadyExists when another process is serving on `path`, with
// kFailedPrecondition when something other than a socket is at `path` (it
// is never removed), and kInvalidArgument when the path does not fit in a
// sockaddr_un.
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
