// Eventually(): waiting in a test for something another thread or process
// makes true (a connection counted, a thread gone), without a fixed sleep.
#ifndef SWIFT_COMMON_TESTING_EVENTUALLY_H_
#define SWIFT_COMMON_TESTING_EVENTUALLY_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace swift::testing {

// Polls `predicate` every 5 ms until it holds (true) or `limit` passes
// (false). Tests assert on the result, so a hang becomes a failure.
template <typename Predicate>
bool Eventually(Predicate predicate, absl::Duration limit = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!predicate()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

}  // namespace swift::testing

#endif  // SWIFT_COMMON_TESTING_EVENTUALLY_H_
