// The busy_poll, event and hybrid waiters; see polling_waiters.h.
#include "client/wait/polling_waiters.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "client/wait/event_sleeper.h"
#include "client/wait/poll_cq.h"
#include "client/wait/spin_budget.h"
#include "client/wait/wait_counters.h"
#include "common/spin_slot.h"

namespace swift::wait_internal {
namespace {

// Empty polls between two looks at the clock: reading it costs more than
// a poll of an empty CQ.
constexpr int kPollsPerClockRead = 64;

// Polls `cq` until a completion, `spin_end` or an error; 0 at spin_end.
// `yield`: give the core to another runnable thread now and then.
absl::StatusOr<int> PollUntil(ibv_cq* cq, ibv_wc* wcs, int max_entries,
                              absl::Time spin_end, bool yield) {
  for (int polls = 0;; polls += kPollsPerClockRead) {
    for (int i = 0; i < kPollsPerClockRead; ++i) {
      absl::StatusOr<int> count = PollCq(cq, wcs, max_entries);
      if (!count.ok() || *count > 0) {
        return count;
      }
    }
    if (absl::Now() >= spin_end) {
      return 0;
    }
    if (yield) {
      MaybeYield(polls + kPollsPerClockRead);
    }
  }
}

class BusyPollWaiter final : public CqWaiter {
 public:
  BusyPollWaiter(ibv_cq* cq, std::unique_ptr<CqClaim> claim)
      : cq_(cq), claim_(std::move(claim)) {}

  absl::StatusOr<int> Wait(ibv_wc* wcs, int max_entries,
                           absl::Duration timeout) override {
    WaitCounters::Add(counters_.waits);
    // The reference for the hardware's limit: it never yields.
    absl::StatusOr<int> count =
        PollUntil(cq_, wcs, max_entries, DeadlineAfter(absl::Now(), timeout),
                  /*yield=*/false);
    if (count.ok() && *count == 0) {
      return absl::DeadlineExceededError("no completion before the deadline");
    }
    if (count.ok()) {
      WaitCounters::Add(counters_.completions, *count);
    }
    return count;
  }

  WaitMode mode() const override { return WaitMode::kBusyPoll; }
  ibv_cq* cq() const override { return cq_; }
  WaitStats stats() const override { return counters_.Snapshot(); }

 private:
  ibv_cq* const cq_;
  const std::unique_ptr<CqClaim> claim_;
  WaitCounters counters_;
};

class EventWaiter final : public CqWaiter {
 public:
  EventWaiter(ibv_cq* cq, const WaitOptions& options,
              std::unique_ptr<CqClaim> claim)
      : cq_(cq),
        mode_(options.mode),
        claim_(std::move(claim)),
        spin_(options.max_spin) {}

  // Second step of construction: the sleeper points at counters_.
  absl::Status Start(int ack_batch) {
    absl::StatusOr<EventSleeper> sleeper =
        EventSleeper::Create(cq_, ack_batch, &counters_);
    if (!sleeper.ok()) {
      return sleeper.status();
    }
    sleeper_.emplace(*std::move(sleeper));
    return absl::OkStatus();
  }

  absl::StatusOr<int> Wait(ibv_wc* wcs, int max_entries,
                           absl::Duration timeout) override {
    WaitCounters::Add(counters_.waits);
    const absl::Time start = absl::Now();
    const absl::Time deadline = DeadlineAfter(start, timeout);
    absl::StatusOr<int> count = 0;
    if (mode_ == WaitMode::kHybrid) {
      const absl::Duration spin = spin_.NextSpin();
      // Spin only while fewer threads spin than there are cores.
      const SpinSlot slot = SpinSlot::TryTake();
      const absl::Time spin_end =
          slot.taken() ? std::min(start + spin, deadline) : start;
      count = PollUntil(cq_, wcs, max_entries, spin_end, /*yield=*/true);
      if (count.ok() && *count > 0) {
        spin_.CaughtWhileSpinning(absl::Now() - start);
        WaitCounters::Add(counters_.spin_hits);
      }
    }
    if (count.ok() && *count == 0) {
      count = sleeper_->Wait(wcs, max_entries, deadline);
      if (count.ok() && mode_ == WaitMode::kHybrid) {
        spin_.Slept(absl::Now() - start);
      }
    }
    if (count.ok()) {
      WaitCounters::Add(counters_.completions, *count);
    }
    return count;
  }

  WaitMode mode() const override { return mode_; }
  ibv_cq* cq() const override { return cq_; }
  WaitStats stats() const override { return counters_.Snapshot(); }

 private:
  ibv_cq* const cq_;
  const WaitMode mode_;
  // Declared before the sleeper: the claim outlives its acks.
  const std::unique_ptr<CqClaim> claim_;
  WaitCounters counters_;
  SpinBudget spin_;
  std::optional<EventSleeper> sleeper_;
};

}  // namespace

std::unique_ptr<CqWaiter> MakeBusyPollWaiter(ibv_cq* cq,
                                             std::unique_ptr<CqClaim> claim) {
  return std::make_unique<BusyPollWaiter>(cq, std::move(claim));
}

absl::StatusOr<std::unique_ptr<CqWaiter>> MakeEventWaiter(
    ibv_cq* cq, const WaitOptions& options, std::unique_ptr<CqClaim> claim) {
  auto waiter = std::make_unique<EventWaiter>(cq, options, std::move(claim));
  if (absl::Status started = waiter->Start(options.ack_batch); !started.ok()) {
    return started;
  }
  return waiter;
}

}  // namespace swift::wait_internal
