// Waiting for completions: one API, four strategies (FastWake).
//
//   swift::WaitOptions options;                  // mode: $SWIFT_WAIT_MODE
//   options.mode = swift::WaitMode::kDispatcher; // or change this one line
//   auto waiter = swift::CqWaiter::Create(connection->cq(), options);
//   ibv_wc wc[16];
//   absl::StatusOr<int> n = (*waiter)->Wait(wc, 16, absl::Seconds(1));
//
// The strategies trade CPU for latency differently:
//   busy_poll   polls without pause: the hardware's latency, one core per
//               waiting thread. Collapses once waiters outnumber cores.
//   event       sleeps on the CQ's completion channel (ibv_get_cq_event),
//               arming the CQ only when it is empty and polling once more
//               after arming (a completion between the last poll and the
//               arm raises no event), acking events in batches.
//   hybrid      spins on the CQ for an adaptive time (bounded by
//               WaitOptions::max_spin), then waits as `event` does. Only
//               as many threads spin at once as the process has cores
//               (more would take the CPU from the work they wait for).
//   dispatcher  FastWake's per-core dispatcher: the waiting thread polls
//               its CQ itself for an adaptive time (as hybrid spins), then
//               sleeps on a futex while one thread per core polls the CQs
//               of every sleeping waiter on that core and wakes exactly the
//               owner of a completion (no fd, no VFS on the wake-up). With
//               nobody waiting it backs off (polling, then yielding, then
//               sleeping on the completion channels), so an idle process
//               costs no core.
//
// Every mode but busy_poll needs a CQ created with a completion channel:
// swift::Session creates each connection's CQ with one (see
// SessionOptions::completion_channels); for a CQ of your own, pass one to
// ibv_create_cq. Each waiter needs the channel to itself: a channel that
// serves two waited CQs would hand one waiter the other's events, so
// Create() refuses that. The completion vector is the CQ creator's choice;
// CompVectorForCpu() gives the one matching a core.
//
// After fork(): a child may wait on a CQ it inherited only with busy_poll.
// The kernel counts every CQ event read from a channel, by any process,
// and the creating process's ibv_destroy_cq waits until it has acked that
// many itself: events a child read and acked (in its own copy of the CQ)
// would make the parent's destroy wait for ever. A dispatcher-mode waiter
// made before fork() refuses to wait in the child: its dispatcher thread
// stayed in the parent.
//
// Thread safety: a waiter is used by one thread at a time (the CQ's owner);
// waiters of different CQs are independent. While a waiter exists, poll
// its CQ only through Wait(): in dispatcher mode the dispatcher consumes
// the CQ and keeps completions for the owner. Waiters may be created and
// destroyed while other waiters' traffic flows. A waiter whose owner moved
// to another core follows it to that core's dispatcher.
#ifndef SWIFT_CLIENT_INCLUDE_SWIFT_WAIT_H_
#define SWIFT_CLIENT_INCLUDE_SWIFT_WAIT_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace swift {

enum class WaitMode {
  kBusyPoll,
  kEvent,
  kHybrid,
  kDispatcher,
};

// "busy_poll", "event", "hybrid", "dispatcher".
absl::string_view WaitModeName(WaitMode mode);

// The mode named `name` (as WaitModeName() spells it); kInvalidArgument
// listing the valid names otherwise.
absl::StatusOr<WaitMode> ParseWaitMode(absl::string_view name);

// The process's default: $SWIFT_WAIT_MODE when set to a valid name (an
// invalid one is logged once and ignored), else kHybrid.
WaitMode DefaultWaitMode();

struct WaitOptions {
  WaitMode mode = DefaultWaitMode();
  // hybrid and dispatcher: the longest time the waiting thread polls its
  // CQ itself before it sleeps (on the channel, or until the dispatcher
  // wakes it). The spin adapts between 0 and this: it grows while
  // completions arrive within or soon after it, and shrinks while waits
  // are long. About one sleep-and-wake-up is the classic choice.
  absl::Duration max_spin = absl::Microseconds(100);
  // event, hybrid: CQ events acknowledged per ibv_ack_cq_events call (each
  // call takes the CQ's mutex). 1 acks every event at once. Outstanding
  // events are always acked before the waiter is destroyed.
  int ack_batch = 16;
};

// What a waiter did, for benchmarks and diagnosis.
struct WaitStats {
  uint64_t waits = 0;        // Wait() calls.
  uint64_t completions = 0;  // Completions returned.
  uint64_t sleeps = 0;       // Times the caller slept (channel or futex).
  uint64_t events = 0;       // CQ events read from the channel.
  uint64_t ack_calls = 0;    // ibv_ack_cq_events calls.
  uint64_t spin_hits = 0;    // hybrid, dispatcher: waits served spinning.
  uint64_t migrations = 0;   // dispatcher: moves to another core's one.
};

class CqWaiter {
 public:
  // Create()
  //
  // A waiter for `cq` in `options.mode`. kInvalidArgument for a null CQ or
  // bad options; kFailedPrecondition when the mode needs a completion
  // channel and `cq` has none, or when another live waiter's CQ uses the
  // same channel; otherwise the failing system call.
  static absl::StatusOr<std::unique_ptr<CqWaiter>> Create(
      ibv_cq* cq, const WaitOptions& options = WaitOptions());

  // Stops waiting on the CQ (dispatcher: leaves the dispatcher, which
  // stops polling the CQ before this returns) and acks every event read
  // for it, so that the CQ can then be destroyed. Completions the
  // dispatcher had taken from the CQ and nobody waited for are dropped.
  virtual ~CqWaiter() = default;

  // Wait()
  //
  // Up to `max_entries` (>= 1) completions into `wcs`, at least one;
  // returns how many. Each is returned exactly once, whatever its status
  // (check wc.status). kDeadlineExceeded when none came within `timeout`
  // (absl::InfiniteDuration() waits for ever); kInvalidArgument for bad
  // arguments; kInternal when ibv_poll_cq or the channel fails.
  virtual absl::StatusOr<int> Wait(ibv_wc* wcs, int max_entries,
                                   absl::Duration timeout) = 0;

  virtual WaitMode mode() const = 0;
  virtual ibv_cq* cq() const = 0;
  virtual WaitStats stats() const = 0;
};

// CompVectorForCpu()
//
// The completion vector of `context` that belongs to core `cpu`: vector
// `cpu % num_comp_vectors`, the mapping swiftd's IRQ affinity follows (its
// `--irq_affinity` pins vector i's interrupt to core i modulo the cores),
// so that a CQ created on it is interrupted on the waiter's core.
// kInvalidArgument for a negative cpu or a null context;
// kFailedPrecondition when the device reports no completion vectors.
absl::StatusOr<int> CompVectorForCpu(ibv_context* context, int cpu);

}  // namespace swift

#endif  // SWIFT_CLIENT_INCLUDE_SWIFT_WAIT_H_
