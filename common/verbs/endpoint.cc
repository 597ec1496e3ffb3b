// QpEndpoint wire form; see endpoint.h.
//
// Layout (kEncodedEndpointSize = 64 bytes, integers big-endian):
//   0  magic "SWEP"        4  version (1)        5  flags
//   6  mtu (ibv_mtu enum)  7  reserved (0)
//   8  qpn   12 psn   16 qkey   20 lid (16 bits)  22 reserved (16 bits)
//   24 gid_index   28 gid (16 bytes, network order as in ibv_gid)
//   44 buffer rkey   48 buffer addr (64 bits)   56 buffer length (64 bits)
// flags: bit 0 = gid_index present, bit 1 = buffer present.
#include "common/verbs/endpoint.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/verbs/gid.h"

namespace swift::verbs {
namespace {

constexpr char kMagic[4] = {'S', 'W', 'E', 'P'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kHasGidIndex = 1 << 0;
constexpr uint8_t kHasBuffer = 1 << 1;

void PutBigEndian(uint64_t value, int bytes, char* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

uint64_t GetBigEndian(const char* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value = (value << 8) | static_cast<uint8_t>(in[i]);
  }
  return value;
}

bool IsVerbsMtu(uint8_t mtu) {
  return mtu >= IBV_MTU_256 && mtu <= IBV_MTU_4096;
}

int MtuToBytes(ibv_mtu mtu) { return 128 << static_cast<int>(mtu); }

}  // namespace

bool QpEndpoint::operator==(const QpEndpoint& other) const {
  return qpn == other.qpn && psn == other.psn &&
         std::memcmp(gid.raw, other.gid.raw, sizeof(gid.raw)) == 0 &&
         gid_index == other.gid_index && lid == other.lid && mtu == other.mtu &&
         qkey == other.qkey && buffer == other.buffer;
}

std::string EncodeEndpoint(const QpEndpoint& endpoint) {
  std::string out(kEncodedEndpointSize, '\0');
  char* p = out.data();
  std::memcpy(p, kMagic, sizeof(kMagic));
  p[4] = static_cast<char>(kVersion);
  p[5] = static_cast<char>((endpoint.gid_index ? kHasGidIndex : 0) |
                           (endpoint.buffer ? kHasBuffer : 0));
  p[6] = static_cast<char>(endpoint.mtu);
  PutBigEndian(endpoint.qpn, 4, p + 8);
  PutBigEndian(endpoint.psn, 4, p + 12);
  PutBigEndian(endpoint.qkey, 4, p + 16);
  PutBigEndian(endpoint.lid, 2, p + 20);
  PutBigEndian(endpoint.gid_index.value_or(0), 4, p + 24);
  std::memcpy(p + 28, endpoint.gid.raw, 16);
  if (endpoint.buffer) {
    PutBigEndian(endpoint.buffer->rkey, 4, p + 44);
    PutBigEndian(endpoint.buffer->addr, 8, p + 48);
    PutBigEndian(endpoint.buffer->length, 8, p + 56);
  }
  return out;
}

absl::StatusOr<QpEndpoint> DecodeEndpoint(absl::string_view bytes) {
  if (bytes.size() != kEncodedEndpointSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint: expected ", kEncodedEndpointSize,
                     " bytes, got ", bytes.size()));
  }
  const char* p = bytes.data();
  if (std::memcmp(p, kMagic, sizeof(kMagic)) != 0) {
    return absl::InvalidArgumentError("endpoint: bad magic (not SWEP)");
  }
  const uint8_t version = static_cast<uint8_t>(p[4]);
  if (version != kVersion) {
    return absl::UnimplementedError(absl::StrCat("endpoint: version ", version,
                                                 " unknown (this build speaks ",
                                                 kVersion, ")"));
  }
  const uint8_t flags = static_cast<uint8_t>(p[5]);
  const uint8_t mtu = static_cast<uint8_t>(p[6]);
  if (!IsVerbsMtu(mtu)) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint: invalid mtu enum ", mtu));
  }
  QpEndpoint endpoint;
  endpoint.qpn = static_cast<uint32_t>(GetBigEndian(p + 8, 4));
  endpoint.psn = static_cast<uint32_t>(GetBigEndian(p + 12, 4));
  if (endpoint.qpn > kMax24Bit || endpoint.psn > kMax24Bit) {
    return absl::InvalidArgumentError(
        absl::StrFormat("endpoint: qpn 0x%x or psn 0x%x exceeds 24 bits",
                        endpoint.qpn, endpoint.psn));
  }
  endpoint.qkey = static_cast<uint32_t>(GetBigEndian(p + 16, 4));
  endpoint.lid = static_cast<uint16_t>(GetBigEndian(p + 20, 2));
  if (flags & kHasGidIndex) {
    endpoint.gid_index = static_cast<uint32_t>(GetBigEndian(p + 24, 4));
  }
  std::memcpy(endpoint.gid.raw, p + 28, 16);
  endpoint.mtu = static_cast<ibv_mtu>(mtu);
  if (flags & kHasBuffer) {
    RemoteBuffer buffer;
    buffer.rkey = static_cast<uint32_t>(GetBigEndian(p + 44, 4));
    buffer.addr = GetBigEndian(p + 48, 8);
    buffer.length = GetBigEndian(p + 56, 8);
    endpoint.buffer = buffer;
  }
  return endpoint;
}

std::string EndpointToString(const QpEndpoint& endpoint) {
  std::string out = absl::StrFormat("qpn=0x%x psn=0x%x gid=%s", endpoint.qpn,
                                    endpoint.psn, GidToString(endpoint.gid));
  if (endpoint.gid_index) {
    absl::StrAppend(&out, " (index ", *endpoint.gid_index, ")");
  }
  if (endpoint.lid != 0) {
    absl::StrAppend(&out, " lid=", endpoint.lid);
  }
  absl::StrAppend(&out, " mtu=", MtuToBytes(endpoint.mtu));
  if (endpoint.qkey != 0) {
    absl::StrAppend(&out, absl::StrFormat(" qkey=0x%x", endpoint.qkey));
  }
  if (endpoint.buffer) {
    absl::StrAppend(
        &out,
        absl::StrFormat(" buffer=0x%x+%u rkey=0x%x", endpoint.buffer->addr,
                        endpoint.buffer->length, endpoint.buffer->rkey));
  }
  return out;
}

ibv_mtu MinMtu(ibv_mtu a, ibv_mtu b) { return a < b ? a : b; }

}  // namespace swift::verbs
