// The dispatcher mode's waiter; see dispatched_waiter.h.
#include "client/wait/dispatched_waiter.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <optional>
#include <utility>

#include "absl/strings/str_format.h"
#include "client/wait/dispatcher.h"
#include "client/wait/dispatcher_table.h"
#include "client/wait/futex.h"
#include "client/wait/poll_cq.h"
#include "client/wait/spin_budget.h"
#include "client/wait/wait_counters.h"
#include "common/errno_status.h"
#include "common/spin_slot.h"

namespace swift::wait_internal {
namespace {

// A waiter follows its owner to another core at most this often: moving
// costs a round trip with the old dispatcher.
constexpr absl::Duration kMinTimeBetweenMoves = absl::Milliseconds(10);
// Polls of the CQ between two looks at the clock while spinning.
constexpr int kPollsPerClockRead = 16;

class DispatchedWaiter final : public CqWaiter {
 public:
  DispatchedWaiter(ibv_cq* cq, const WaitOptions& options,
                   std::unique_ptr<CqClaim> claim)
      : claim_(std::move(claim)),
        spin_(options.max_spin),
        target_(std::make_shared<DispatchTarget>(cq, options.ack_batch,
                                                 &counters_)) {}

  ~DispatchedWaiter() override {
    // In a forked child the dispatcher's thread does not exist: nothing
    // polls the CQ there, and nothing is to be undone.
    if (dispatcher_ != nullptr && dispatcher_->pid() == getpid()) {
      dispatcher_->Remove(target_.get());
    }
  }

  absl::Status Register() {
    absl::StatusOr<Dispatcher*> dispatcher = DispatcherForCpu(CurrentCpu());
    if (!dispatcher.ok()) {
      return dispatcher.status();
    }
    if (absl::Status added = (*dispatcher)->Add(target_); !added.ok()) {
      return added;
    }
    dispatcher_ = *dispatcher;
    last_move_ = absl::Now();
    return absl::OkStatus();
  }

  absl::StatusOr<int> Wait(ibv_wc* wcs, int max_entries,
                           absl::Duration timeout) override {
    WaitCounters::Add(counters_.waits);
    if (dispatcher_->pid() != getpid()) {
      return absl::FailedPreconditionError(
          "this dispatcher-mode waiter was created before fork(): its "
          "dispatcher runs in the parent; create a new waiter in the child");
    }
    FollowOwner();
    const absl::Time start = absl::Now();
    const absl::Time deadline = DeadlineAfter(start, timeout);
    // First the owner polls its CQ itself, for an adaptive spin: a
    // completion due soon costs no hop through the dispatcher. Only while
    // fewer threads spin than there are cores; else one look, then sleep.
    std::optional<SpinSlot> slot(SpinSlot::TryTake());
    const absl::Duration spin = spin_.NextSpin();
    const absl::Time spin_end =
        slot->taken() ? std::min(start + spin, deadline) : start;
    for (int polls = 0;; ++polls) {
      absl::StatusOr<int> count = TakeDirectly(wcs, max_entries);
      if (!count.ok()) {
        return count.status();
      }
      if (*count > 0) {
        spin_.CaughtWhileSpinning(absl::Now() - start);
        WaitCounters::Add(counters_.spin_hits);
        WaitCounters::Add(counters_.completions, *count);
        return count;
      }
      if (polls % kPollsPerClockRead == 0 && absl::Now() >= spin_end) {
        break;
      }
      MaybeYield(polls);
    }
    slot.reset();  // Asleep, it is not spinning.
    absl::StatusOr<int> count =
        SleepUntilDispatched(wcs, max_entries, deadline);
    if (count.ok()) {
      spin_.Slept(absl::Now() - start);
      WaitCounters::Add(counters_.completions, *count);
    }
    return count;
  }

  WaitMode mode() const override { return WaitMode::kDispatcher; }
  ibv_cq* cq() const override { return target_->cq; }
  WaitStats stats() const override { return counters_.Snapshot(); }

 private:
  // The ring's completions (older: the dispatcher took them), else the
  // CQ's; 0 when the dispatcher polls the CQ right now.
  absl::StatusOr<int> TakeDirectly(ibv_wc* wcs, int max_entries) {
    if (!target_->TryLockPoll()) {
      return target_->ring.Pop(wcs, max_entries);
    }
    int count = target_->ring.Pop(wcs, max_entries);
    absl::StatusOr<int> polled = count;
    if (count == 0) {
      polled = PollCq(target_->cq, wcs, max_entries);
    }
    target_->UnlockPoll();
    return polled;
  }

  // Hands the CQ to the dispatcher and sleeps on the futex until it
  // delivers completions, the deadline, or a failure.
  absl::StatusOr<int> SleepUntilDispatched(ibv_wc* wcs, int max_entries,
                                           absl::Time deadline) {
    std::atomic<uint32_t>& sleeping = target_->owner_sleeping;
    target_->waiting.store(true, std::memory_order_relaxed);
    // Pairs with the dispatcher's fence between announcing its sleep and
    // its last look at the waiting flags.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (dispatcher_->asleep()) {
      dispatcher_->Poke();
    }
    absl::StatusOr<int> result;
    while (true) {
      if (const int count = target_->ring.Pop(wcs, max_entries); count > 0) {
        result = count;
        break;
      }
      if (target_->failed.load(std::memory_order_acquire)) {
        result = target_->Error();
        break;
      }
      if (FollowOwner()) {
        continue;
      }
      const absl::Time now = absl::Now();
      if (now >= deadline) {
        result =
            absl::DeadlineExceededError("no completion before the deadline");
        break;
      }
      sleeping.store(1, std::memory_order_relaxed);
      // Pairs with the dispatcher's fence between its push and its look
      // at `sleeping`: either it sees 1 and wakes us, or we see its push.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (target_->ring.empty() &&
          !target_->failed.load(std::memory_order_acquire)) {
        WaitCounters::Add(counters_.sleeps);
        FutexWait(&sleeping, 1, deadline - now);
      }
      sleeping.store(0, std::memory_order_relaxed);
    }
    // The owner handles what it got; until its next Wait() the CQ keeps
    // new completions, and then it polls them itself.
    target_->waiting.store(false, std::memory_order_relaxed);
    return result;
  }

  // Moves the registration to the dispatcher of the core the owner now
  // runs on, so that the wake-up stays on one core.
  // Returns whether it moved (the new dispatcher may be asleep: it was
  // poked by Add()).
  bool FollowOwner() {
    const int cpu = CurrentCpu();
    if (cpu == dispatcher_->cpu() ||
        absl::Now() - last_move_ < kMinTimeBetweenMoves) {
      return false;
    }
    last_move_ = absl::Now();
    absl::StatusOr<Dispatcher*> next = DispatcherForCpu(cpu);
    if (!next.ok()) {
      return false;  // Stay: the old dispatcher still serves this CQ.
    }
    dispatcher_->Remove(target_.get());
    if ((*next)->Add(target_).ok()) {
      dispatcher_ = *next;
      WaitCounters::Add(counters_.migrations);
      return true;
    }
    // The old dispatcher took it once; it takes it again.
    if (absl::Status back = dispatcher_->Add(target_); !back.ok()) {
      target_->Fail(back);
    }
    return true;
  }

  const std::unique_ptr<CqClaim> claim_;
  WaitCounters counters_;
  SpinBudget spin_;
  const std::shared_ptr<DispatchTarget> target_;
  Dispatcher* dispatcher_ = nullptr;
  absl::Time last_move_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CqWaiter>> MakeDispatchedWaiter(
    ibv_cq* cq, const WaitOptions& options, std::unique_ptr<CqClaim> claim) {
  // The dispatcher reads the channel with the fd non-blocking (EAGAIN ends
  // a drain), never blocking its thread on one CQ.
  if (absl::Status status = MakeChannelNonBlocking(cq->channel); !status.ok()) {
    return status;
  }
  auto waiter =
      std::make_unique<DispatchedWaiter>(cq, options, std::move(claim));
  if (absl::Status registered = waiter->Register(); !registered.ok()) {
    return registered;
  }
  return waiter;
}

}  // namespace swift::wait_internal
