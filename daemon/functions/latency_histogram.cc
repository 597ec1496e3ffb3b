// LatencyHistogram; see latency_histogram.h.
#include "daemon/functions/latency_histogram.h"

#include <algorithm>

namespace swift {

void LatencyHistogram::Add(absl::Duration latency) {
  const uint64_t us = static_cast<uint64_t>(
      std::max<int64_t>(0, absl::ToInt64Microseconds(latency)));
  // A bucket holds what is at most its bound: the first bound >= us.
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(kUpperBoundsUs.begin(), kUpperBoundsUs.end(), us) -
      kUpperBoundsUs.begin());
  ++counts_[bucket];
  sum_us_ += us;
  ++count_;
}

void LatencyHistogram::ToProto(v1::LatencyHistogram* out) const {
  out->Clear();
  for (uint64_t bound : kUpperBoundsUs) {
    out->add_upper_bounds_us(bound);
  }
  for (uint64_t count : counts_) {
    out->add_counts(count);
  }
  out->set_sum_us(sum_us_);
  out->set_count(count_);
}

}  // namespace swift
