// SpinBudget implementation; see spin_budget.h.
#include "client/wait/spin_budget.h"

#include <algorithm>

namespace swift::wait_internal {

SpinBudget::SpinBudget(absl::Duration max_spin, int probe_every)
    : max_spin_(max_spin),
      probe_every_(std::max(probe_every, 1)),
      budget_(max_spin),
      caught_average_(max_spin / 2) {}

absl::Duration SpinBudget::NextSpin() {
  ++waits_;
  if (waits_ % probe_every_ == 0) {
    return max_spin_;
  }
  return budget_;
}

void SpinBudget::CaughtWhileSpinning(absl::Duration waited) {
  caught_average_ += (waited - caught_average_) / 8;
  budget_ = std::min(max_spin_, std::max(caught_average_ * 2, waited));
}

void SpinBudget::Slept(absl::Duration waited) {
  if (waited <= max_spin_ * kNearMiss) {
    budget_ = std::min(max_spin_, std::max(budget_ * 2, absl::Microseconds(1)));
    return;
  }
  // Halve toward zero: a few long waits in a row stop the spinning, and
  // the probes bring it back once completions come quickly again.
  budget_ /= 2;
  if (budget_ < absl::Microseconds(1)) {
    budget_ = absl::ZeroDuration();
  }
}

}  // namespace swift::wait_internal
