// LatencyBuckets(): the histogram bucket bounds of swiftd's latency
// metrics, in seconds: those of the latency histograms swiftd's listings
// carry (LatencyHistogram::kUpperBoundsUs), so that `swiftctl top` and
// Prometheus bucket the same way: 50 us (a fork invocation's floor, a
// connect's admission) to 60 s (past --max_connect_timeout and the default
// function timeout), about three per decade.
//
// Thread-safe: a constant.
#ifndef SWIFT_DAEMON_METRICS_LATENCY_BUCKETS_H_
#define SWIFT_DAEMON_METRICS_LATENCY_BUCKETS_H_

#include "daemon/functions/latency_histogram.h"
#include "prometheus/histogram.h"

namespace swift {

inline prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  prometheus::Histogram::BucketBoundaries seconds;
  for (const uint64_t bound_us : LatencyHistogram::kUpperBoundsUs) {
    seconds.push_back(static_cast<double>(bound_us) / 1e6);
  }
  return seconds;
}

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_LATENCY_BUCKETS_H_
