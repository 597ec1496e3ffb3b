// `swiftctl top`'s frame: what two samples of swiftd (top_sample.h), taken
// some time apart, show. Rates are counter differences divided by the time
// between the samples; percentiles of invocations and connects come from
// the differences of the latency histograms the listings carry (over the
// interval, and since swiftd started), interpolated inside a bucket as
// Prometheus' histogram_quantile() does; the handshakes of the open
// connections from their own times. What an interval did not have (no
// invocation in it), or an older swiftd's answer does not carry, is shown
// as "n/a", never estimated.
//
// Pure functions of their arguments; thread-safe.
#ifndef SWIFT_TOOLS_SWIFTCTL_TOP_FRAME_H_
#define SWIFT_TOOLS_SWIFTCTL_TOP_FRAME_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tools/swiftctl/top_sample.h"

namespace swift::swiftctl {

struct TopFrameOptions {
  // For a terminal that understands ANSI escapes: the frame starts at the
  // top left corner, each line erases what a previous frame left to its
  // right, the screen below the frame is cleared, and headings are
  // highlighted. Otherwise plain lines with no escape codes at all.
  bool terminal = false;
  // Terminal size: lines are cut at `width` columns and tables shortened so
  // that the frame fits in `height` lines (0: no limit). Plain output is
  // never cut.
  int width = 0;
  int height = 0;
};

// FormatTopFrame()
//
// The frame for the interval from `before` to `after` (samples of the same
// swiftd; when its incarnation changed in between, the rates are "n/a").
std::string FormatTopFrame(const TopSample& before, const TopSample& after,
                           const TopFrameOptions& options);

// Percentile()
//
// The nearest-rank `percent` percentile (0 < percent <= 100) of `values`
// (any order); -1 when `values` is empty.
int64_t Percentile(std::vector<uint64_t> values, double percent);

// HistogramDelta()
//
// What `after` counted since `before` (the same histogram, sampled
// earlier), bucket by bucket; `after` itself when it is not `before`
// grown (other bounds, a count that shrank: it started over, or `before`
// is empty).
v1::LatencyHistogram HistogramDelta(const v1::LatencyHistogram& before,
                                    const v1::LatencyHistogram& after);

// HistogramQuantile()
//
// The `quantile` (0..1) of the latencies `histogram` counted, in
// microseconds: found in the first bucket whose cumulative count reaches
// quantile * total, linearly between its bounds (the first bucket starts
// at 0; in +Inf, the last finite bound). -1 when it counted nothing or is
// malformed (not one count more than bounds).
double HistogramQuantile(const v1::LatencyHistogram& histogram,
                         double quantile);

// FormatLatency(): "812us", "1.2ms", "3.40s".
std::string FormatLatency(uint64_t microseconds);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_TOP_FRAME_H_
