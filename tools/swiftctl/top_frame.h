// `swiftctl top`'s frame: what two samples of swiftd (top_sample.h), taken
// some time apart, show. Rates are counter differences divided by the time
// between the samples; percentiles come from the latencies the listings
// carry. What swiftd's API does not expose (invocations by mode, invocation
// latencies) is shown as "n/a", never estimated.
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

// FormatLatency(): "812us", "1.2ms", "3.40s".
std::string FormatLatency(uint64_t microseconds);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_TOP_FRAME_H_
