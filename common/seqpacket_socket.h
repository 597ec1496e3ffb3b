// SeqpacketSocket: a connected AF_UNIX SOCK_SEQPACKET socket that sends and
// receives whole messages, optionally with file descriptors (SCM_RIGHTS).
//
// Swift's lean local transport: the kernel keeps message boundaries, so one
// send() is one message, with no framing of our own, and a message can carry
// fds, which gRPC cannot. Thread-compatible: one thread sends and one
// receives at a time (callers serialize).
#ifndef SWIFT_COMMON_SEQPACKET_SOCKET_H_
#define SWIFT_COMMON_SEQPACKET_SOCKET_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace swift {

// The largest message either side sends; larger ones are refused.
inline constexpr size_t kMaxSeqpacketMessage = 64 * 1024;
// The most fds one message carries.
inline constexpr int kMaxSeqpacketFds = 16;

class SeqpacketSocket final {
 public:
  // Connect()
  //
  // Connects to a SOCK_SEQPACKET listener at `path`. kNotFound when no
  // socket exists there, kUnavailable when nobody listens, otherwise errno.
  static absl::StatusOr<SeqpacketSocket> Connect(absl::string_view path);

  // Pair(): two connected ends, for tests and for handing to a child.
  static absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> Pair();

  // The receive buffer is not zero-filled: a socket made to send one
  // answer (an instance answering a client) pays no 64 KiB memset.
  explicit SeqpacketSocket(UniqueFd fd)
      : fd_(std::move(fd)), receive_buffer_(new char[kMaxSeqpacketMessage]) {}
  SeqpacketSocket(SeqpacketSocket&&) = default;
  SeqpacketSocket& operator=(SeqpacketSocket&&) = default;

  int fd() const { return fd_.get(); }

  // Send()
  //
  // Sends `message` as one datagram, with `fds` attached (the fds stay open
  // here; the receiver gets duplicates). kInvalidArgument for a message over
  // kMaxSeqpacketMessage or too many fds; kUnavailable when the peer closed.
  absl::Status Send(absl::string_view message,
                    const std::vector<int>& fds = {});

  struct Message {
    std::string data;
    // Received fds, owned by the caller.
    std::vector<UniqueFd> fds;
  };

  // Receive()
  //
  // Blocks until one message arrives. kUnavailable with "peer closed" when
  // the other end is gone (an orderly end of the conversation);
  // kDataLoss when the message was truncated.
  absl::StatusOr<Message> Receive();

 private:
  UniqueFd fd_;
  // Allocated once: zero-filling 64 KiB per message would cost more than
  // the round trip it serves.
  std::unique_ptr<char[]> receive_buffer_;
};

// SeqpacketListener: a listening SOCK_SEQPACKET socket on a path.
class SeqpacketListener final {
 public:
  // Listen()
  //
  // Binds and listens on `path` (which must not exist) with `mode`
  // permission bits applied before any client can connect.
  static absl::StatusOr<SeqpacketListener> Listen(absl::string_view path,
                                                  int mode);

  SeqpacketListener(SeqpacketListener&&) = default;
  SeqpacketListener& operator=(SeqpacketListener&&) = default;

  // Accept(): blocks for the next connection. kCancelled after Shutdown().
  absl::StatusOr<SeqpacketSocket> Accept();

  // Shutdown(): wakes Accept() from another thread; later Accepts fail.
  void Shutdown();

  int fd() const { return fd_.get(); }

 private:
  explicit SeqpacketListener(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace swift

#endif  // SWIFT_COMMON_SEQPACKET_SOCKET_H_
