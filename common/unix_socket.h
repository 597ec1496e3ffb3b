// Small helpers for the Unix-domain socket swiftd listens on.
//
// gRPC reports an unreachable socket only as "failed to connect"; these
// helpers ask the kernel directly so users get the precise reason (no
// daemon, a stale socket file, no permission). Thread-safe (no state).
#ifndef SWIFT_COMMON_UNIX_SOCKET_H_
#define SWIFT_COMMON_UNIX_SOCKET_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace swift {

// The longest path a sockaddr_un holds, without the terminating NUL.
inline constexpr size_t kMaxUnixSocketPath = 107;

// ProbeUnixSocket()
//
// Connects a stream socket to `path` and closes it at once. OK when a
// listener accepted; kNotFound when no file exists at `path`; kUnavailable
// when the file is there but nobody listens (a stale socket); kPermissionDenied
// when the caller may not connect; kInvalidArgument when `path` is empty or
// longer than kMaxUnixSocketPath. Does not block beyond the connect().
absl::Status ProbeUnixSocket(absl::string_view path);

// FastPathSocketPath()
//
// Where swiftd's lean fast path (SOCK_SEQPACKET) listens, beside the Control
// API socket: "/run/swift/swiftd.sock" -> "/run/swift/swiftd.fast.sock".
std::string FastPathSocketPath(absl::string_view control_socket_path);

// PreloadHintsPath()
//
// Where swiftd keeps the preload hints (client/preload/preload_hints.h),
// in the Control API socket's directory: "/run/swift/swiftd.sock" ->
// "/run/swift/preload.hints" ("./preload.hints" for a bare file name).
std::string PreloadHintsPath(absl::string_view control_socket_path);

}  // namespace swift

#endif  // SWIFT_COMMON_UNIX_SOCKET_H_
