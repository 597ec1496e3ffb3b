// RunThisThreadWhenIdle(): moves the calling thread to SCHED_IDLE, the
// Linux policy with the scheduler's lowest weight: its threads give way to
// every normal thread and run mostly on CPU time the others leave (never
// starved outright: on a core kept busy they still get a sliver).
//
// For work done ahead of time (swiftd populating lease regions for the next
// client): at normal priority it competes with the very cold starts it is
// meant to speed up. On a 2-vCPU guest, a lease taken at the start of a
// client's Session::Create woke the refill, whose page zeroing then ran
// beside the client's own start. Lowering one's own policy needs no
// privilege. Affects the calling thread only (threads it starts later
// inherit it).
#ifndef SWIFT_COMMON_IDLE_PRIORITY_H_
#define SWIFT_COMMON_IDLE_PRIORITY_H_

#include "absl/status/status.h"

namespace swift {

absl::Status RunThisThreadWhenIdle();

// Whether the calling thread runs under SCHED_IDLE (for tests and logs).
bool ThisThreadRunsWhenIdle();

}  // namespace swift

#endif  // SWIFT_COMMON_IDLE_PRIORITY_H_
