// The dispatcher mode's waiter; see dispatched_waiter.h.
#include "client/wait/dispatched_waiter.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>

#include "absl/strings/str_format.h"
#include "client/wait/dispatcher.h"
#include "client/wait/dispatcher_table.h"
#include "client/wait/futex.h"
#include "client/wait/poll_cq.h"
#include "client/wait/wait_counters.h"
#include "common/errno_status.h"

namespace swift::wait_internal {
namespace {

// A waiter follows its owner to another core at most this often: moving
// costs a round trip with the old dispatcher.
constexpr absl::Duration kMinTimeBetweenMoves = absl::Milliseconds(10);
// Looks at the ring before sleeping: a completion the dispatcher is about
// to deliver costs less to catch than a futex sleep and wake.
constexpr int kRingSpins = 64;

class DispatchedWaiter final : public CqWaiter {
 public:
  DispatchedWaiter(ibv_cq* cq, const WaitOptions& options,
                   std::unique_ptr<CqClaim> claim)
      : claim_(std::move(claim)),
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
    const absl::Time deadline = timeout == absl::InfiniteDuration()
                                    ? absl::InfiniteFuture()
                                    : absl::Now() + timeout;
    std::atomic<uint32_t>& sleeping = target_->owner_sleeping;
    while (true) {
      if (const int count = target_->ring.Pop(wcs, max_entries); count > 0) {
        WaitCounters::Add(counters_.completions, count);
        return count;
      }
      if (target_->failed.load(std::memory_order_acquire)) {
        return target_->Error();
      }
      FollowOwner();
      bool arrived = false;
      for (int i = 0; i < kRingSpins && !arrived; ++i) {
        arrived = !target_->ring.empty();
      }
      if (arrived) {
        continue;
      }
      const absl::Time now = absl::Now();
      if (now >= deadline) {
        return absl::DeadlineExceededError("no completion before the deadline");
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
  }

  WaitMode mode() const override { return WaitMode::kDispatcher; }
  ibv_cq* cq() const override { return target_->cq; }
  WaitStats stats() const override { return counters_.Snapshot(); }

 private:
  // Moves the registration to the dispatcher of the core the owner now
  // runs on, so that the wake-up stays on one core.
  void FollowOwner() {
    const int cpu = CurrentCpu();
    if (cpu == dispatcher_->cpu() ||
        absl::Now() - last_move_ < kMinTimeBetweenMoves) {
      return;
    }
    last_move_ = absl::Now();
    absl::StatusOr<Dispatcher*> next = DispatcherForCpu(cpu);
    if (!next.ok()) {
      return;  // Stay: the old dispatcher still serves this CQ.
    }
    dispatcher_->Remove(target_.get());
    if ((*next)->Add(target_).ok()) {
      dispatcher_ = *next;
      WaitCounters::Add(counters_.migrations);
      return;
    }
    // The old dispatcher took it once; it takes it again.
    if (absl::Status back = dispatcher_->Add(target_); !back.ok()) {
      target_->Fail(back);
    }
  }

  const std::unique_ptr<CqClaim> claim_;
  WaitCounters counters_;
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
