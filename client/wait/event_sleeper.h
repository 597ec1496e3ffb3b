// EventSleeper: the event half of the event and hybrid modes. Waits for a
// CQ's completions on its completion channel, the way ibv_get_cq_event(3)
// asks: arm the CQ only once it is found empty, poll once more after
// arming (a completion that landed between the poll and the arm raises no
// event), sleep on the channel's fd, read the event, poll. Events are
// acked in batches (ibv_ack_cq_events takes the CQ's mutex) and all of them
// before the sleeper goes, so the CQ can then be destroyed.
#ifndef SWIFT_CLIENT_WAIT_EVENT_SLEEPER_H_
#define SWIFT_CLIENT_WAIT_EVENT_SLEEPER_H_

#include <infiniband/verbs.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/wait/wait_counters.h"

namespace swift::wait_internal {

class EventSleeper {
 public:
  // For `cq`, which has a completion channel this sleeper alone reads
  // (the caller holds a CqClaim). Makes the channel's fd non-blocking:
  // the sleep is a ppoll with a deadline, never a blocking read.
  static absl::StatusOr<EventSleeper> Create(ibv_cq* cq, int ack_batch,
                                             WaitCounters* counters);

  EventSleeper(EventSleeper&& other);
  EventSleeper& operator=(EventSleeper&&) = delete;
  ~EventSleeper();

  // Completions of the CQ into `wcs` (at least one), sleeping on the
  // channel while it is empty; kDeadlineExceeded at `deadline`.
  absl::StatusOr<int> Wait(ibv_wc* wcs, int max_entries, absl::Time deadline);

 private:
  EventSleeper(ibv_cq* cq, int ack_batch, WaitCounters* counters)
      : cq_(cq), ack_batch_(ack_batch), counters_(counters) {}

  // Sleeps until the channel is readable or `deadline`; then reads every
  // event there. OK also when woken without an event (a signal).
  absl::Status SleepForEvent(absl::Time deadline);
  void AckAll();

  ibv_cq* cq_;
  int ack_batch_;
  WaitCounters* counters_;
  // Whether the CQ is armed and its event not yet read.
  bool armed_ = false;
  unsigned int unacked_ = 0;
};

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_EVENT_SLEEPER_H_
