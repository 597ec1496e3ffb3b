// Frames (tcp_frame.h's 4-byte length + payload) on a stream socket, read
// and written against deadlines with as few system calls as the bytes
// allow: the peer link's hot path.
//
// Why not RecvFrame()/SendFrame() with SO_RCVTIMEO: a frame read there
// costs a recv() for the header and one for the payload, a server that
// must bound its wait adds a poll() before each, and a caller with a
// deadline sets both socket timeouts per call. On the peer link that was
// 13 system calls per request and answer; here it is a send(), a poll()
// and a recv() on each side. On a virtual machine, where every system
// call and wake-up is dear, that is most of a brokered connect's CPU.
#ifndef SWIFT_COMMON_FRAME_IO_H_
#define SWIFT_COMMON_FRAME_IO_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/tcp_frame.h"

namespace swift {

// FrameReader
//
// Reads one connection's frames through a buffer of its own: a recv()
// takes whatever the socket holds, so a small frame (or several frames
// pipelined by the peer) usually costs one poll() and one recv(). The
// reader does not own `fd`; it must be the only reader of it, and the
// bytes it buffered past the frames returned (buffered()) are lost with
// it. Not thread-safe.
class FrameReader final {
 public:
  explicit FrameReader(int fd, size_t max_bytes = kMaxFrameBytes)
      : fd_(fd), max_bytes_(max_bytes) {}
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  // Next()
  //
  // The next frame's payload. kDeadlineExceeded unless its first byte
  // arrives before `first_byte_deadline` (InfiniteFuture: waits for ever)
  // and the whole frame within `frame_timeout` of it: a server bounds an
  // idle connection with the first, a peer that starts a frame and stalls
  // with the second. kUnavailable when the peer closed the connection
  // before a whole frame; kInvalidArgument for a frame over `max_bytes`
  // (its payload is not read: the stream cannot be trusted after it).
  absl::StatusOr<std::string> Next(absl::Time first_byte_deadline,
                                   absl::Duration frame_timeout) {
    return Read(first_byte_deadline, frame_timeout, absl::InfiniteFuture());
  }

  // NextBefore()
  //
  // As Next(), the whole frame due by `deadline`: for a caller awaiting
  // an answer.
  absl::StatusOr<std::string> NextBefore(absl::Time deadline) {
    return Read(deadline, absl::InfiniteDuration(), deadline);
  }

  // Bytes read past the frames Next() returned: a peer that sent more
  // than it was asked for, when the protocol is one answer per request.
  size_t buffered() const { return end_ - start_; }

 private:
  // Next() with the frame's remainder due by the earlier of
  // `frame_timeout` after its first byte and `frame_deadline`.
  absl::StatusOr<std::string> Read(absl::Time first_byte_deadline,
                                   absl::Duration frame_timeout,
                                   absl::Time frame_deadline);
  // Reads what the socket holds (at least one byte) into the buffer, with
  // room for `wanted` bytes past start_. Waits until `deadline`; polls
  // before reading when `poll_first` (the bytes are not expected yet).
  absl::Status Fill(size_t wanted, absl::Time deadline, bool poll_first);

  const int fd_;
  const size_t max_bytes_;
  std::string buffer_;
  size_t start_ = 0;  // The first byte not returned yet.
  size_t end_ = 0;    // One past the last byte read.
};

// SendFrameBefore()
//
// Writes one frame (length + `payload`) completely by `deadline`, never
// blocking past it whatever the socket's mode and timeouts: one send()
// unless the peer stopped reading and the socket's buffer is full.
// kDeadlineExceeded at the deadline (a part may have been sent: the
// connection cannot be used again); kUnavailable when the peer is gone.
absl::Status SendFrameBefore(int fd, absl::string_view payload,
                             absl::Time deadline);

}  // namespace swift

#endif  // SWIFT_COMMON_FRAME_IO_H_
