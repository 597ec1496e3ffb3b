// Backoff: how long to wait before each retry: `initial`, then doubling
// up to `max` (1s, 2s, 4s, ... 60s for FunctionRestorer's defaults).
//
// Thread-compatible: one per retry loop.
#ifndef SWIFT_DAEMON_FUNCTIONS_BACKOFF_H_
#define SWIFT_DAEMON_FUNCTIONS_BACKOFF_H_

#include <algorithm>

#include "absl/time/time.h"

namespace swift {

class Backoff final {
 public:
  // The first wait is `initial` (at most `max`), each next one twice the
  // last, at most `max`.
  Backoff(absl::Duration initial, absl::Duration max)
      : next_(std::min(initial, max)), max_(max) {}

  // Next()
  //
  // The wait before the next retry; the one after is twice as long (at
  // most max).
  absl::Duration Next() {
    const absl::Duration wait = next_;
    next_ = std::min(next_ * 2, max_);
    return wait;
  }

 private:
  absl::Duration next_;
  const absl::Duration max_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_BACKOFF_H_
