// SpinUntilReadable implementation; see spin_wait.h.
#include "common/spin_wait.h"

#include <poll.h>

#include "absl/time/clock.h"
#include "common/spin_slot.h"

namespace swift {

bool SpinUntilReadable(int fd, absl::Duration limit) {
  if (limit <= absl::ZeroDuration()) {
    return false;
  }
  const SpinSlot slot = SpinSlot::TryTake();
  if (!slot.taken()) {
    return false;
  }
  const absl::Time deadline = absl::Now() + limit;
  pollfd readable = {fd, POLLIN, 0};
  for (int polls = 1;; ++polls) {
    const int ready = poll(&readable, 1, /*timeout=*/0);
    if (ready != 0) {
      return ready > 0;
    }
    if (absl::Now() >= deadline) {
      return false;
    }
    MaybeYield(polls);
  }
}

}  // namespace swift
