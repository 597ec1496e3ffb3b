// TCP connections carrying frames (4-byte big-endian length + payload):
// the transport of the lean peer link between swiftds and of the raw-verbs
// baseline's out-of-band exchange.
//
// Thread-safe: no shared state; each fd is used by one thread at a time.
#ifndef SWIFT_COMMON_TCP_FRAME_H_
#define SWIFT_COMMON_TCP_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"

namespace swift {

// The largest frame RecvFrame() accepts unless told otherwise.
inline constexpr size_t kMaxFrameBytes = 64 * 1024;

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// ParseHostPort()
//
// "10.77.0.1:18515" -> {"10.77.0.1", 18515}. kInvalidArgument for a missing
// host or a port outside 0..65535 (0 only where a listener may pick one).
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text);

// ListenTcp()
//
// A TCP socket bound to `address` (IPv4 literal or name; port 0 picks a
// free port, see LocalPort()) and listening (backlog SOMAXCONN: many clients
// may connect at once), SO_REUSEADDR, close-on-exec.
// Errors carry the failing call's errno.
absl::StatusOr<UniqueFd> ListenTcp(const HostPort& address);

// LocalPort()
//
// The port `fd` is bound to.
absl::StatusOr<uint16_t> LocalPort(int fd);

// AcceptTcp()
//
// Blocks until a peer connects to `listen_fd`; the connection has
// TCP_NODELAY set (small request/response frames) and is close-on-exec.
// Retries EINTR.
absl::StatusOr<UniqueFd> AcceptTcp(int listen_fd);

// SetNoDelay()
//
// Sets TCP_NODELAY on `fd` (small request/response frames must not wait
// for Nagle); for connections accepted outside AcceptTcp().
absl::Status SetNoDelay(int fd);

// ConnectTcp()
//
// Connects to `address` with TCP_NODELAY. kUnavailable when refused or
// unreachable; other errors carry connect()'s errno.
absl::StatusOr<UniqueFd> ConnectTcp(const HostPort& address);

// SetIoTimeout()
//
// Makes send/recv on `fd` fail with kDeadlineExceeded after `timeout`
// without progress (SO_SNDTIMEO/SO_RCVTIMEO), so a dead peer cannot hang us.
absl::Status SetIoTimeout(int fd, absl::Duration timeout);

// EncodeFrame()
//
// One frame: `payload`'s length (4 bytes, big-endian), then `payload`.
std::string EncodeFrame(absl::string_view payload);

// SendFrame()
//
// Writes one frame (length + `payload`) completely. Retries EINTR and short
// writes; kUnavailable when the peer is gone (EPIPE/ECONNRESET).
absl::Status SendFrame(int fd, absl::string_view payload);

// FrameLength()
//
// The payload length a frame's 4-byte `header` announces; kInvalidArgument
// when it is over `max_bytes` (the payload must not be read).
absl::StatusOr<size_t> FrameLength(absl::string_view header, size_t max_bytes);

// RecvFrame()
//
// Reads one whole frame and returns its payload. kUnavailable when the peer
// closed the connection; kInvalidArgument for a frame longer than
// `max_bytes`; kDeadlineExceeded after the fd's I/O timeout.
absl::StatusOr<std::string> RecvFrame(int fd,
                                      size_t max_bytes = kMaxFrameBytes);

}  // namespace swift

#endif  // SWIFT_COMMON_TCP_FRAME_H_
