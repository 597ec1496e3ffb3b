// LatencyHistogram: latencies counted into fixed buckets, as a Prometheus
// histogram counts them, for the Control API's listings (v1::
// LatencyHistogram): swiftd keeps counts only, never the latencies
// themselves, so its memory does not grow with the number of invocations
// or connects; readers (swiftctl top) difference two answers and
// interpolate percentiles.
//
// The bounds are those of swiftd's latency metrics
// (daemon/metrics/latency_buckets.h), in microseconds: 50 us to 60 s,
// about three a decade, then +Inf.
//
// A value type, thread-compatible: the recorders that own one lock it.
#ifndef SWIFT_DAEMON_FUNCTIONS_LATENCY_HISTOGRAM_H_
#define SWIFT_DAEMON_FUNCTIONS_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "proto/swift.pb.h"

namespace swift {

class LatencyHistogram final {
 public:
  // The upper bounds of the finite buckets, in microseconds, ascending.
  static constexpr std::array<uint64_t, 19> kUpperBoundsUs = {
      50,      100,     250,      500,      1000,    2500,   5000,
      10000,   25000,   50000,    100000,   250000,  500000, 1000000,
      2500000, 5000000, 10000000, 30000000, 60000000};
  // The finite buckets and the +Inf one.
  static constexpr size_t kBuckets = kUpperBoundsUs.size() + 1;

  // Add(): one latency; a negative one counts as 0.
  void Add(absl::Duration latency);

  uint64_t count() const { return count_; }
  uint64_t sum_us() const { return sum_us_; }
  // How many fell in bucket `i` (< kBuckets; the last is +Inf).
  uint64_t bucket(size_t i) const { return counts_[i]; }

  // ToProto(): the bounds, the per-bucket counts (kBuckets of them), the
  // sum and the count.
  void ToProto(v1::LatencyHistogram* out) const;

 private:
  std::array<uint64_t, kBuckets> counts_ = {};
  uint64_t sum_us_ = 0;
  uint64_t count_ = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_LATENCY_HISTOGRAM_H_
