// RunThisThreadWhenIdle(); see idle_priority.h.
#include "common/idle_priority.h"

#include <errno.h>
#include <sched.h>

#include "common/errno_status.h"

namespace swift {

absl::Status RunThisThreadWhenIdle() {
  sched_param param = {};
  param.sched_priority = 0;  // The only value SCHED_IDLE takes.
  // pid 0: the calling thread (Linux schedules threads, not processes).
  if (sched_setscheduler(0, SCHED_IDLE, &param) != 0) {
    return ErrnoStatus(errno, "sched_setscheduler(SCHED_IDLE)");
  }
  return absl::OkStatus();
}

bool ThisThreadRunsWhenIdle() { return sched_getscheduler(0) == SCHED_IDLE; }

}  // namespace swift
