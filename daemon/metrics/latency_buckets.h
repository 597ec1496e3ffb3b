// LatencyBuckets(): the histogram bucket bounds of swiftd's latency
// metrics, in seconds: 50 us (a fork invocation's floor, a connect's
// admission) to 60 s (past --max_connect_timeout and the default function
// timeout), about three per decade.
//
// Thread-safe: a constant.
#ifndef SWIFT_DAEMON_METRICS_LATENCY_BUCKETS_H_
#define SWIFT_DAEMON_METRICS_LATENCY_BUCKETS_H_

#include "prometheus/histogram.h"

namespace swift {

inline prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
          0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1,
          2.5,     5,      10,      30,     60};
}

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_LATENCY_BUCKETS_H_
