// WireMicros(): a step's duration as the uint32 microseconds the hot-path
// protos carry (the per-step breakdown of a brokered connect). Durations,
// never time points, cross processes: each side measures on its own clock.
//
// Thread-safe: a pure function.
#ifndef SWIFT_COMMON_WIRE_MICROS_H_
#define SWIFT_COMMON_WIRE_MICROS_H_

#include <algorithm>
#include <cstdint>

#include "absl/time/time.h"

namespace swift {

// WireMicros()
//
// `duration` in whole microseconds, clamped to 0..UINT32_MAX (a negative
// duration, which a clock step could give, is 0).
inline uint32_t WireMicros(absl::Duration duration) {
  return static_cast<uint32_t>(std::clamp<int64_t>(
      absl::ToInt64Microseconds(duration), 0, UINT32_MAX));
}

}  // namespace swift

#endif  // SWIFT_COMMON_WIRE_MICROS_H_
