// DispatchTarget: one waited CQ as its dispatcher and its owner share it.
// The owner polls the CQ itself while it spins; once it goes to sleep it
// sets `waiting`, and from then on the dispatcher polls the CQ into the
// ring and wakes the owner, which sleeps on `owner_sleeping` (a futex
// word). Whoever polls the CQ holds `poll_lock`, and the ring is emptied
// before the CQ is polled again, so completions keep their order.
#ifndef SWIFT_CLIENT_WAIT_DISPATCH_TARGET_H_
#define SWIFT_CLIENT_WAIT_DISPATCH_TARGET_H_

#include <infiniband/verbs.h>

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "client/wait/completion_ring.h"
#include "client/wait/wait_counters.h"

namespace swift::wait_internal {

struct DispatchTarget {
  DispatchTarget(ibv_cq* cq, int ack_batch, WaitCounters* counters)
      : cq(cq), ring(cq->cqe + 1), ack_batch(ack_batch), counters(counters) {}

  // The right to poll the CQ (or push to the ring): owner or dispatcher.
  bool TryLockPoll() {
    return !poll_lock.exchange(true, std::memory_order_acquire);
  }
  void UnlockPoll() { poll_lock.store(false, std::memory_order_release); }

  // The dispatcher: records the CQ's failure, for the owner to return.
  void Fail(absl::Status status) {
    absl::MutexLock lock(&error_mu);
    error = std::move(status);
    failed.store(true, std::memory_order_release);
  }
  absl::Status Error() const {
    absl::MutexLock lock(&error_mu);
    return error;
  }

  ibv_cq* const cq;
  CompletionRing ring;
  const int ack_batch;
  // The owner's counters; it keeps them alive while the target is
  // registered.
  WaitCounters* const counters;
  // 1 while the owner sleeps (or is about to) on this word.
  std::atomic<uint32_t> owner_sleeping{0};
  // The owner waits for the dispatcher: poll this CQ for it.
  std::atomic<bool> waiting{false};
  std::atomic<bool> poll_lock{false};
  std::atomic<bool> failed{false};
  mutable absl::Mutex error_mu;
  absl::Status error ABSL_GUARDED_BY(error_mu);

  // Used only by the thread of the dispatcher it is registered with.
  bool armed = false;
  unsigned int unacked = 0;
};

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_DISPATCH_TARGET_H_
