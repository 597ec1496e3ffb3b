// Fuzz target: the endpoint codec (common/verbs/endpoint.h), which reads
// endpoints that other hosts' swiftds and local applications send.
//
// Checks: DecodeEndpoint() either fails with a documented code or gives an
// endpoint within its bounds (24-bit QPN and PSN, a verbs MTU) that
// encodes to kEncodedEndpointSize bytes and decodes back to itself; its
// log form and MinMtu() work on it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/verbs/endpoint.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swift::fuzz;   // NOLINT: the entry point is global.
  using namespace swift::verbs;  // NOLINT
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<QpEndpoint> endpoint = DecodeEndpoint(bytes);
  if (!endpoint.ok()) {
    Check(absl::IsInvalidArgument(endpoint.status()) ||
              absl::IsUnimplemented(endpoint.status()),
          "DecodeEndpoint: an undocumented error code");
    return 0;
  }
  Check(size == kEncodedEndpointSize, "DecodeEndpoint: accepted a bad size");
  Check(endpoint->qpn <= kMax24Bit && endpoint->psn <= kMax24Bit,
        "DecodeEndpoint: a QPN or PSN over 24 bits");
  Check(endpoint->mtu >= IBV_MTU_256 && endpoint->mtu <= IBV_MTU_4096,
        "DecodeEndpoint: not a verbs MTU");
  const std::string encoded = EncodeEndpoint(*endpoint);
  Check(encoded.size() == kEncodedEndpointSize, "EncodeEndpoint: wrong size");
  absl::StatusOr<QpEndpoint> again = DecodeEndpoint(encoded);
  Check(again.ok() && *again == *endpoint, "Encode/Decode round trip");
  Check(EncodeEndpoint(*again) == encoded, "EncodeEndpoint is not stable");
  Check(!EndpointToString(*endpoint).empty(), "EndpointToString: empty");
  Check(MinMtu(endpoint->mtu, IBV_MTU_4096) == endpoint->mtu,
        "MinMtu: not the smaller");
  return 0;
}
