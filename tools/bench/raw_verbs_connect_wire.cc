// TCP framing and messages of raw_verbs_connect; see raw_verbs_connect_wire.h.
#include "tools/bench/raw_verbs_connect_wire.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"

namespace swift::bench {
namespace {

constexpr char kHelloMagic[4] = {'R', 'V', 'C', '1'};
constexpr size_t kHelloBytes = 4 + 8 + 8 + verbs::kEncodedEndpointSize;

void PutU64(uint64_t value, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

// The xorshift64 state for `seed`: a bijection (odd multiplier, then an
// add), so distinct seeds start distinct; xorshift must not start at 0.
uint64_t PatternStart(uint64_t seed) {
  const uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
  return x == 0 ? 1 : x;
}

uint64_t GetU64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<uint8_t>(in[i]);
  }
  return value;
}

}  // namespace

std::string EncodeHello(const Hello& hello) {
  std::string out(kHelloBytes - verbs::kEncodedEndpointSize, '\0');
  std::memcpy(out.data(), kHelloMagic, sizeof(kHelloMagic));
  PutU64(hello.seed, out.data() + 4);
  PutU64(hello.length, out.data() + 12);
  out += verbs::EncodeEndpoint(hello.endpoint);
  return out;
}

absl::StatusOr<Hello> DecodeHello(absl::string_view bytes) {
  if (bytes.size() != kHelloBytes ||
      std::memcmp(bytes.data(), kHelloMagic, sizeof(kHelloMagic)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a raw_verbs_connect hello (", bytes.size(), " bytes)"));
  }
  Hello hello;
  hello.seed = GetU64(bytes.data() + 4);
  hello.length = GetU64(bytes.data() + 12);
  absl::StatusOr<verbs::QpEndpoint> endpoint =
      verbs::DecodeEndpoint(bytes.substr(20));
  if (!endpoint.ok()) {
    return endpoint.status();
  }
  hello.endpoint = *endpoint;
  return hello;
}

void FillPattern(uint8_t* data, size_t size, uint64_t seed) {
  uint64_t x = PatternStart(seed);
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    data[i] = static_cast<uint8_t>(x >> 24);
  }
}

absl::Status CheckPattern(const uint8_t* data, size_t size, uint64_t seed) {
  uint64_t x = PatternStart(seed);
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const uint8_t expected = static_cast<uint8_t>(x >> 24);
    if (data[i] != expected) {
      return absl::DataLossError(
          absl::StrFormat("byte %u of %u is 0x%02x, expected 0x%02x", i, size,
                          data[i], expected));
    }
  }
  return absl::OkStatus();
}

}  // namespace swift::bench
