// Median(): the middle of a benchmark's samples (the mean of the two middle
// ones for an even count), shared by the host benchmarks that summarize
// rounds (scrape_cost, connect_cost).
#ifndef SWIFT_TOOLS_BENCH_MEDIAN_H_
#define SWIFT_TOOLS_BENCH_MEDIAN_H_

#include <algorithm>
#include <vector>

namespace swift::bench {

// `values` must not be empty.
inline double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace swift::bench

#endif  // SWIFT_TOOLS_BENCH_MEDIAN_H_
