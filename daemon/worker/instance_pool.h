// InstancePool: the worker's book of its instances and the policy that
// decides about them, as pure functions of their state and of the time.
//
// An instance is a child of the worker (InstanceProcesses has the process);
// here it is only an id and a state:
//   spare     forked ahead of a request, never ran, idle ("fresh"); a
//             spare may hold a client's channel ("parked"): it is kept for
//             that channel's next request, and no other request takes it
//             (it still counts towards options.spares: another client's
//             FORK forks on arrival meanwhile);
//   busy      running one invocation (its Job), until the Job's deadline;
//   idle      has run and waits for a WARM request, until idle_timeout;
//   retiring  killed to make room, waiting to be reaped (not live).
// The policy (no fork, no clock, no socket here, so it is tested on the
// host): which instance to retire when max_instances are live
// (ToRetire), which idle instance serves a request (FindIdle), how many
// spares are missing (MissingSpares: none while any invocation runs) and
// when they may be forked (NextSpareFork: once traffic paused), which
// instances are over their deadline or idle too long (Expired), and when
// the event loop must wake next (NextWake).
//
// Thread-compatible: the worker's event loop is its only user.
#ifndef SWIFT_DAEMON_WORKER_INSTANCE_POOL_H_
#define SWIFT_DAEMON_WORKER_INSTANCE_POOL_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "proto/worker.pb.h"

namespace swift {

class InstancePool final {
 public:
  struct Options {
    // Spares kept ready for FORK requests (they count as instances).
    int spares = 1;
    int max_instances = 8;
    // An instance that has run exits after this long idle; spares stay.
    absl::Duration idle_timeout = absl::Seconds(60);
    // How long traffic must pause before spares are forked: a fork stalls
    // the event loop, and requests back to back would each wait behind it.
    absl::Duration quiet_period = absl::Milliseconds(20);
    // How long after a failed spare fork the next one is tried.
    absl::Duration retry_interval = absl::Milliseconds(200);
  };

  // The invocation a busy instance runs, and where its reply goes.
  struct Job {
    uint64_t request_id = 0;
    // The mode that serves it (reported as served_by).
    worker::v1::InvokeMode mode = worker::v1::FORK;
    // Where the reply goes: the worker's route id (swiftd or a channel).
    uint64_t route = 0;
    absl::Time started;
    absl::Time deadline;
    // It went to a spare (an instance forked before the request).
    bool spare = false;
  };

  struct Instance {
    uint64_t id = 0;
    bool busy = false;
    // Has never run an invocation: a spare while idle.
    bool fresh = true;
    // Killed to make room; leaves the pool once reaped.
    bool retiring = false;
    // The client channel (its route) this instance holds, 0: none. Parked
    // on it as a spare, it keeps it while it runs that channel's request,
    // until Unpark().
    uint64_t parked_route = 0;
    absl::Time idle_since;
    // Valid while busy.
    Job job;

    // Not retiring: what max_instances counts.
    bool live() const { return !retiring; }
    // Live and free for a request.
    bool idle() const { return live() && !busy; }
    // Idle and never ran: ready for a FORK request (for a parked channel's
    // only, when parked).
    bool spare() const { return idle() && fresh; }
  };

  enum class Expiry {
    // Busy past its Job's deadline: killed, the request fails.
    kDeadline,
    // Idle (having run) for idle_timeout: it exits quietly.
    kIdle,
  };
  struct Expired {
    uint64_t id = 0;
    Expiry why = Expiry::kIdle;
  };

  explicit InstancePool(Options options) : options_(options) {}

  // ---- State changes (ids are the caller's, unique) ----

  // Add(): a new spare, idle since `now`.
  void Add(uint64_t id, absl::Time now);
  // AddRunning(): a new instance forked for `job` (not a spare).
  void AddRunning(uint64_t id, Job job);
  // Start(): the idle instance `id` runs `job`; job.spare is set here
  // (whether the instance was still fresh). It is fresh no more.
  void Start(uint64_t id, Job job);
  // Finish(): instance `id` answered; idle since `now`, which is also
  // traffic (see NoteActivity). Returns its finished Job.
  Job Finish(uint64_t id, absl::Time now);
  // Park(): the spare `id` holds the channel `route` from now on.
  void Park(uint64_t id, uint64_t route);
  // Unpark(): instance `id` gave its channel back (or ended); returns the
  // channel's route, 0 when it held none.
  uint64_t Unpark(uint64_t id);
  // Retire(): instance `id` was killed to make room; not live any more.
  void Retire(uint64_t id);
  // Remove(): instance `id` was reaped.
  void Remove(uint64_t id);
  // NoteActivity(): a request arrived or a reply left at `now`: spares
  // wait for the quiet period after it.
  void NoteActivity(absl::Time now) { last_activity_ = now; }
  // NoteSpareForkFailed(): no spare could be forked at `now`; the next try
  // waits retry_interval.
  void NoteSpareForkFailed(absl::Time now) {
    spare_retry_at_ = now + options_.retry_interval;
  }

  // ---- Decisions ----

  // The instance `id`, or null.
  const Instance* Find(uint64_t id) const;
  // Live instances (busy, idle and spares; not retiring).
  int Live() const;
  int Busy() const;
  int Spares() const;
  // Whether max_instances are live: a new instance needs one retired.
  bool Full() const { return Live() >= options_.max_instances; }
  // The instance to retire to make room: the longest-idle live instance
  // that has run (never a spare nor a busy one); nullopt when none is.
  std::optional<uint64_t> ToRetire() const;
  // An idle instance that is `fresh` (a spare) or has run (for WARM), or
  // nullopt. A parked spare is never one: it is its channel's.
  std::optional<uint64_t> FindIdle(bool fresh) const;
  // A spare that holds no channel, to park one on; nullopt when none is.
  std::optional<uint64_t> SpareToPark() const;
  // Spares to fork now: options.spares less the spares ready (parked ones
  // included); 0 while any invocation runs (a fork stalls the loop the
  // reply waits on, and competes with the instance for the CPU).
  int MissingSpares() const;
  // When a missing spare may be forked: the quiet period after the last
  // activity and the retry interval after a failed fork; InfiniteFuture
  // when none is missing.
  absl::Time NextSpareFork() const;
  // Instances over their deadline (busy) or idle for idle_timeout (having
  // run; retiring ones too, in case their end went unnoticed). Spares
  // never expire: they are the worker's readiness.
  std::vector<Expired> ExpiredAt(absl::Time now) const;
  // The earliest of the next deadline, idle expiry and spare fork.
  absl::Time NextWake() const;
  // Ids in the order instances were added.
  std::vector<uint64_t> Ids() const;

 private:
  Instance* Mutable(uint64_t id);

  const Options options_;
  std::vector<Instance> instances_;
  absl::Time last_activity_ = absl::InfinitePast();
  absl::Time spare_retry_at_ = absl::InfinitePast();
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_INSTANCE_POOL_H_
