// SpinBudget: how long the hybrid mode spins before it sleeps. Pure: it
// sees only how long each wait took and whether the spin caught it.
//
// Spinning pays when completions come within the spin, and wastes a core
// otherwise. The budget follows a moving average of the waits that the
// spin caught (twice it, so that most such waits fit). A wait that ended
// asleep says only "longer than the spin" (its time includes the
// wake-up): when it still ended soon (within kNearMiss times max_spin) a
// longer spin would likely have caught it, so the budget grows; a long
// wait halves it, and a few in a row stop the spinning. Every
// probe_every-th wait spins the whole max_spin to learn again.
#ifndef SWIFT_CLIENT_WAIT_SPIN_BUDGET_H_
#define SWIFT_CLIENT_WAIT_SPIN_BUDGET_H_

#include <cstdint>

#include "absl/time/time.h"

namespace swift::wait_internal {

class SpinBudget {
 public:
  explicit SpinBudget(absl::Duration max_spin, int probe_every = 16);

  // How long the next wait spins.
  absl::Duration NextSpin();

  // The wait that NextSpin() was asked for: caught while spinning after
  // `waited`, or not caught (it slept) and ended after `waited` in all.
  void CaughtWhileSpinning(absl::Duration waited);
  void Slept(absl::Duration waited);

  // A wait that slept yet ended within this many max_spins was a near
  // miss.
  static constexpr int kNearMiss = 4;

  absl::Duration current() const { return budget_; }

 private:
  const absl::Duration max_spin_;
  const int probe_every_;
  absl::Duration budget_;
  // Moving average of the caught waits (weight 1/8 for the newest).
  absl::Duration caught_average_;
  uint64_t waits_ = 0;
};

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_SPIN_BUDGET_H_
