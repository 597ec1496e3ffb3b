// Fuzz target: the peer link's frame decoders (common/tcp_frame and
// common/frame_io), the first code a remote host's bytes reach.
//
//   byte 0      bit 0: read with a FrameReader (buffered, deadlines) instead
//               of RecvFrame(); bits 1-2: the size limit (16 B, 1 KiB,
//               4 KiB or kMaxFrameBytes)
//   the rest    the byte stream, written to one end of a socketpair
//               that is then shut down
//
// Checks: frames are read until an error, each within the limit; the
// error is one RecvFrame() documents (the peer closed, a frame over the
// limit, a deadline); SendFrame() then RecvFrame() gives back the payload;
// ParseHostPort() on the bytes either fails or gives a host and port that
// print and parse back to the same.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/frame_io.h"
#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "tests/fuzz/fuzz_support.h"

namespace swift::fuzz {
namespace {

// Larger inputs might not fit a socketpair's buffer before the read (the
// reader runs after the writer, on the same thread).
constexpr size_t kMaxInput = 32 * 1024;

std::pair<UniqueFd, UniqueFd> StreamPair() {
  int fds[2];
  Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0,
        "socketpair(AF_UNIX, SOCK_STREAM)");
  // Room for the whole input: the reader runs after the writer.
  const int size = 4 * kMaxInput;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    Check(n > 0, "send on the socketpair");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// The length in the 4-byte big-endian header at `at`.
size_t FrameLength(absl::string_view stream, size_t at) {
  size_t length = 0;
  for (size_t i = 0; i < 4; ++i) {
    length = (length << 8) | static_cast<unsigned char>(stream[at + i]);
  }
  return length;
}

void DecodeStream(uint8_t mode, absl::string_view stream) {
  static constexpr size_t kLimits[] = {16, 1024, 4096, kMaxFrameBytes};
  const size_t limit = kLimits[(mode >> 1) & 3];
  const bool with_deadlines = mode & 1;
  auto [writer, reader] = StreamPair();
  WriteAll(writer.get(), stream);
  shutdown(writer.get(), SHUT_WR);
  FrameReader frames(reader.get(), limit);
  size_t consumed = 0;
  while (true) {
    absl::StatusOr<std::string> frame =
        with_deadlines
            ? frames.Next(absl::Now() + absl::Seconds(5), absl::Seconds(5))
            : RecvFrame(reader.get(), limit);
    const size_t left = stream.size() - consumed;
    if (!frame.ok()) {
      const absl::Status& status = frame.status();
      if (absl::IsInvalidArgument(status)) {
        // Refused from the header alone.
        Check(left >= 4 && FrameLength(stream, consumed) > limit,
              "RecvFrame: refused a frame within the limit");
      } else {
        // The end of the stream, only once no whole frame is left.
        Check(absl::IsUnavailable(status),
              absl::StrCat("RecvFrame: unexpected error ", status.ToString()));
        Check(left < 4 || left - 4 < FrameLength(stream, consumed),
              "RecvFrame: said the peer closed before the stream ended");
      }
      return;
    }
    Check(frame->size() <= limit, "RecvFrame: a frame over the limit");
    Check(stream.substr(consumed + 4, frame->size()) == *frame,
          "RecvFrame: the payload is not the bytes sent");
    consumed += 4 + frame->size();
  }
}

void RoundTrip(absl::string_view payload) {
  if (payload.size() > kMaxFrameBytes) {
    return;
  }
  auto [writer, reader] = StreamPair();
  Check(SendFrame(writer.get(), payload).ok(), "SendFrame on a socketpair");
  absl::StatusOr<std::string> frame = RecvFrame(reader.get());
  Check(frame.ok() && *frame == payload, "SendFrame/RecvFrame round trip");
}

void HostPorts(absl::string_view text) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(text);
  if (!parsed.ok()) {
    Check(absl::IsInvalidArgument(parsed.status()), "ParseHostPort's error");
    return;
  }
  Check(!parsed->host.empty(), "ParseHostPort: an empty host");
  absl::StatusOr<HostPort> again =
      ParseHostPort(absl::StrCat(parsed->host, ":", parsed->port));
  Check(again.ok() && again->host == parsed->host &&
            again->port == parsed->port,
        "ParseHostPort: host:port does not parse back");
}

}  // namespace
}  // namespace swift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swift::fuzz;  // NOLINT: the entry point is global.
  if (size == 0 || size > kMaxInput) {
    return 0;
  }
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  const int fds_before = OpenFdCount();
  DecodeStream(data[0], rest);
  RoundTrip(rest);
  Check(OpenFdCount() == fds_before, "tcp_frame leaked a descriptor");
  HostPorts(rest);
  return 0;
}
