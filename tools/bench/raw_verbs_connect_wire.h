// The TCP side of raw_verbs_connect: what a program written without Swift
// uses to swap QP endpoints with its peer, and to have the peer check the
// bytes an RDMA WRITE put into its memory.
//
// Protocol (each message is a frame: 4-byte big-endian length + payload):
//   client -> server  Hello   {seed, length, client QpEndpoint}
//   server -> client  Welcome server QpEndpoint, with its buffer (addr, rkey)
//                     -- sent once the server's QP is in RTR --
//   client            RDMA WRITE of `length` pattern bytes (from `seed`)
//   client -> server  "DONE"
//   server -> client  "OK", or "BAD: <what differed>"
//
// Thread-safe: no shared state; each fd is used by one thread at a time.
#ifndef SWIFT_TOOLS_BENCH_RAW_VERBS_CONNECT_WIRE_H_
#define SWIFT_TOOLS_BENCH_RAW_VERBS_CONNECT_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "common/verbs/endpoint.h"

namespace swift::bench {

// The TCP framing lives in common/tcp_frame.h.
using ::swift::AcceptTcp;
using ::swift::ConnectTcp;
using ::swift::HostPort;
using ::swift::ListenTcp;
using ::swift::LocalPort;
using ::swift::ParseHostPort;
using ::swift::RecvFrame;
using ::swift::SendFrame;
using ::swift::SetIoTimeout;

// The client's opening message.
struct Hello {
  uint64_t seed = 0;    // Pattern seed of the bytes the client will WRITE.
  uint64_t length = 0;  // How many bytes it will WRITE at the buffer start.
  verbs::QpEndpoint endpoint;
};

// EncodeHello() / DecodeHello()
//
// Hello's wire form: "RVC1", seed and length (big-endian), then the encoded
// endpoint. DecodeHello(): kInvalidArgument for anything else.
std::string EncodeHello(const Hello& hello);
absl::StatusOr<Hello> DecodeHello(absl::string_view bytes);

// FillPattern()
//
// Writes `size` bytes derived from `seed` (xorshift64) to `data`: distinct
// seeds give distinct contents, so stale bytes of an earlier run never pass.
void FillPattern(uint8_t* data, size_t size, uint64_t seed);

// CheckPattern()
//
// OK when `data` holds FillPattern(seed)'s `size` bytes; kDataLoss naming
// the first differing offset otherwise.
absl::Status CheckPattern(const uint8_t* data, size_t size, uint64_t seed);

}  // namespace swift::bench

#endif  // SWIFT_TOOLS_BENCH_RAW_VERBS_CONNECT_WIRE_H_
