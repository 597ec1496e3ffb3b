// QpEndpoint: what two peers exchange to connect their queue pairs.
//
// To take an RC QP to RTR a host needs the peer's QP number, starting PSN,
// GID (RoCE addresses by GID, not LID) and MTU; to RDMA WRITE/READ into the
// peer it also needs a remote buffer (address, length, rkey). A UD sender
// needs the peer's QP number, GID and Q_Key. QpEndpoint carries all of that,
// and EncodeEndpoint()/DecodeEndpoint() give it a fixed, versioned,
// byte-order-independent wire form for any channel (TCP, a gRPC bytes field,
// a Unix socket).
//
// Plain data with no verbs objects inside: copyable, thread-compatible.
#ifndef SWIFT_COMMON_VERBS_ENDPOINT_H_
#define SWIFT_COMMON_VERBS_ENDPOINT_H_

#include <infiniband/verbs.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift::verbs {

// A peer's registered memory that RDMA WRITE/READ may target.
struct RemoteBuffer {
  uint64_t addr = 0;    // Virtual address in the peer's MR.
  uint64_t length = 0;  // Bytes from `addr` the peer allows.
  uint32_t rkey = 0;

  bool operator==(const RemoteBuffer& other) const {
    return addr == other.addr && length == other.length && rkey == other.rkey;
  }
};

struct QpEndpoint {
  uint32_t qpn = 0;  // 24 bits.
  uint32_t psn = 0;  // 24 bits: the first PSN this side sends.
  ibv_gid gid = {};  // The sender's source GID (RoCEv2: ::ffff:a.b.c.d).
  // The GID table index `gid` sits at on the sender's port. Informational
  // for the peer (it addresses by `gid`), useful in logs.
  std::optional<uint32_t> gid_index;
  uint16_t lid = 0;            // 0 on RoCE; the port LID on InfiniBand.
  ibv_mtu mtu = IBV_MTU_1024;  // The sender's port active MTU.
  uint32_t qkey = 0;           // UD only; 0 for RC.
  std::optional<RemoteBuffer> buffer;

  bool operator==(const QpEndpoint& other) const;
  bool operator!=(const QpEndpoint& other) const { return !(*this == other); }
};

// The size of EncodeEndpoint()'s output, for every endpoint.
inline constexpr size_t kEncodedEndpointSize = 64;

// The largest value a 24-bit QPN or PSN can take.
inline constexpr uint32_t kMax24Bit = 0xffffff;

// EncodeEndpoint()
//
// The wire form of `endpoint`: kEncodedEndpointSize bytes, magic "SWEP",
// version 1, integers big-endian. Never fails; values are encoded as given
// (DecodeEndpoint() is where they are validated).
std::string EncodeEndpoint(const QpEndpoint& endpoint);

// DecodeEndpoint()
//
// Parses EncodeEndpoint()'s output. kInvalidArgument when `bytes` has the
// wrong size or magic, when qpn/psn exceed 24 bits or the MTU is not a verbs
// MTU; kUnimplemented for a version this build does not know.
absl::StatusOr<QpEndpoint> DecodeEndpoint(absl::string_view bytes);

// EndpointToString()
//
// A one-line human form for logs, e.g.
// "qpn=0x11 psn=0x3a2b1c gid=::ffff:10.77.0.1 (index 1) mtu=1024
//  buffer=0x7f00..+4096 rkey=0x1234". Unstable: never parse it.
std::string EndpointToString(const QpEndpoint& endpoint);

// MinMtu()
//
// The smaller of two verbs MTUs: the path MTU two ports can use.
ibv_mtu MinMtu(ibv_mtu a, ibv_mtu b);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_ENDPOINT_H_
