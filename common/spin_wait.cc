// SpinUntilReadable implementation; see spin_wait.h.
#include "common/spin_wait.h"

#include <poll.h>
#include <sched.h>

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
  while (true) {
    const int ready = poll(&readable, 1, /*timeout=*/0);
    if (ready != 0) {
      return ready > 0;
    }
    if (absl::Now() >= deadline) {
      return false;
    }
    // Every poll: a poll() is a system call (far dearer than a CQ poll,
    // whose waiters yield every kPollsPerYield), and the thread that will
    // answer may be runnable on this very core, where spinning on would
    // only delay it until the scheduler's next tick.
    sched_yield();
  }
}

}  // namespace swift
