// Dispatcher: FastWake's per-core dispatcher. One thread, pinned to its
// core, polls the CQs of every waiter registered on that core whose owner
// sleeps waiting for it, moves their completions into each waiter's ring
// and wakes exactly that waiter with a futex. When no CQ has had a
// completion for a while it backs off: polling with a pause, then yielding
// the core to the application's threads after each empty pass, then arming
// the waited CQs and sleeping in epoll_wait on their completion channels
// (and an eventfd for registrations and owners that go to sleep), so that
// an idle process costs no core. With no owner asleep it sleeps at once:
// owners spin on their CQs themselves first.
//
// Thread-safe: Add() and Remove() from any thread while traffic flows.
#ifndef SWIFT_CLIENT_WAIT_DISPATCHER_H_
#define SWIFT_CLIENT_WAIT_DISPATCHER_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/wait/dispatch_target.h"
#include "common/unique_fd.h"

namespace swift::wait_internal {

class Dispatcher {
 public:
  // A dispatcher for core `cpu`, its thread running. The thread is pinned
  // to `cpu` when the process may run there; otherwise it runs unpinned
  // (logged once).
  static absl::StatusOr<std::unique_ptr<Dispatcher>> Start(int cpu);

  // Stops the thread and joins it; targets still registered are dropped
  // (their events acked).
  ~Dispatcher();

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Add()
  //
  // Starts polling `target`'s CQ (from the next pass) and sleeping on its
  // channel. The errno status of epoll_ctl on failure.
  absl::Status Add(std::shared_ptr<DispatchTarget> target);

  // Remove()
  //
  // Stops polling `target`'s CQ and acks its events; returns once the
  // thread has let go of it. Only from the process that started the
  // dispatcher (see pid()).
  void Remove(DispatchTarget* target);

  int cpu() const { return cpu_; }
  // The process whose thread this is: a forked child has the object but
  // not the thread.
  pid_t pid() const { return pid_; }

  // Poke()
  //
  // Wakes the thread if it sleeps (a waiter that starts waiting).
  void Poke();

  // Passes over the CQs and sleeps so far, for tests and benchmarks.
  uint64_t passes() const { return passes_.load(std::memory_order_relaxed); }
  uint64_t sleeps() const { return sleeps_.load(std::memory_order_relaxed); }
  // Whether the thread sleeps in epoll_wait right now.
  bool asleep() const { return asleep_.load(std::memory_order_relaxed); }

 private:
  Dispatcher(int cpu, UniqueFd epoll, UniqueFd wake);

  void Run();
  void ApplyChanges();
  // One poll of the CQ of every owner asleep waiting (counted in
  // `waiting` if given); returns the completions moved.
  int PollAll(int* waiting = nullptr);
  // Arms every CQ, polls once more, and sleeps until a channel or the
  // eventfd is readable.
  void Sleep();
  void ReadEvents(DispatchTarget& target);
  void AckEvents(DispatchTarget& target);

  const int cpu_;
  const pid_t pid_;
  const UniqueFd epoll_;
  const UniqueFd wake_;  // eventfd: registrations and Stop.

  absl::Mutex mu_;
  std::vector<std::shared_ptr<DispatchTarget>> adds_ ABSL_GUARDED_BY(mu_);
  std::vector<DispatchTarget*> removes_ ABSL_GUARDED_BY(mu_);
  // Remove() requests made and carried out, in order.
  uint64_t requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> changes_pending_{false};
  std::atomic<bool> stop_{false};

  // The thread's own.
  std::vector<std::shared_ptr<DispatchTarget>> targets_;
  std::atomic<uint64_t> passes_{0};
  std::atomic<uint64_t> sleeps_{0};
  std::atomic<bool> asleep_{false};

  // Last: started once everything above exists.
  std::thread thread_;
};

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_DISPATCHER_H_
