// EventSleeper implementation; see event_sleeper.h.
#include "client/wait/event_sleeper.h"

#include <poll.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "client/wait/poll_cq.h"
#include "common/errno_status.h"

namespace swift::wait_internal {

absl::StatusOr<EventSleeper> EventSleeper::Create(ibv_cq* cq, int ack_batch,
                                                  WaitCounters* counters) {
  if (absl::Status status = MakeChannelNonBlocking(cq->channel); !status.ok()) {
    return status;
  }
  return EventSleeper(cq, ack_batch, counters);
}

EventSleeper::EventSleeper(EventSleeper&& other)
    : cq_(other.cq_),
      ack_batch_(other.ack_batch_),
      counters_(other.counters_),
      armed_(other.armed_),
      unacked_(other.unacked_) {
  other.cq_ = nullptr;
  other.unacked_ = 0;
}

EventSleeper::~EventSleeper() { AckAll(); }

void EventSleeper::AckAll() {
  if (cq_ != nullptr && unacked_ > 0) {
    ibv_ack_cq_events(cq_, unacked_);
    WaitCounters::Add(counters_->ack_calls);
    unacked_ = 0;
  }
}

absl::StatusOr<int> EventSleeper::Wait(ibv_wc* wcs, int max_entries,
                                       absl::Time deadline) {
  while (true) {
    absl::StatusOr<int> count = PollCq(cq_, wcs, max_entries);
    if (!count.ok() || *count > 0) {
      return count;
    }
    if (!armed_) {
      if (absl::Status armed = ArmCq(cq_); !armed.ok()) {
        return armed;
      }
      armed_ = true;
      // The completion that arrived between the poll and the arm.
      count = PollCq(cq_, wcs, max_entries);
      if (!count.ok() || *count > 0) {
        return count;
      }
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("no completion before the deadline");
    }
    if (absl::Status slept = SleepForEvent(deadline); !slept.ok()) {
      return slept;
    }
  }
}

absl::Status EventSleeper::SleepForEvent(absl::Time deadline) {
  pollfd channel = {cq_->channel->fd, POLLIN, 0};
  timespec limit;
  timespec* limit_ptr = nullptr;
  if (deadline != absl::InfiniteFuture()) {
    limit = absl::ToTimespec(
        std::max(deadline - absl::Now(), absl::ZeroDuration()));
    limit_ptr = &limit;
  }
  WaitCounters::Add(counters_->sleeps);
  if (ppoll(&channel, 1, limit_ptr, nullptr) < 0 && errno != EINTR) {
    return ErrnoStatus(errno, absl::StrFormat("ppoll on the completion "
                                              "channel fd %d",
                                              channel.fd));
  }
  // Read every event there: the fd is non-blocking, EAGAIN ends it.
  while (true) {
    ibv_cq* event_cq = nullptr;
    void* event_context = nullptr;
    if (ibv_get_cq_event(cq_->channel, &event_cq, &event_context) != 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return absl::OkStatus();
      }
      return ErrnoStatus(errno, "ibv_get_cq_event");
    }
    if (event_cq != cq_) {
      // A CQ nobody waits on through a waiter shares the channel (CqClaim
      // refuses two waited ones): ack its event so it can be destroyed.
      ibv_ack_cq_events(event_cq, 1);
      continue;
    }
    WaitCounters::Add(counters_->events);
    armed_ = false;
    if (++unacked_ >= static_cast<unsigned int>(ack_batch_)) {
      AckAll();
    }
  }
}

}  // namespace swift::wait_internal
