// ColdInstances: a cold template's children, one per COLD invocation.
//
// A cold template (swift_worker --template) holds what every cold start
// of its tenant would otherwise rebuild: the loaded runtime, the open
// device, the PD, the registered buffer and a pool of QPs in INIT. For
// each COLD invocation it connects a fresh connection set to the peers the
// invocation names (through the broker, on the caller's thread), forks a
// child that takes the set, loads the function's library and runs the
// function once (ServeColdInstance(), cold_child.h), and relays the
// child's one reply. The child then exits; it is reaped and its set closed
// (recycled through the broker) off the reply's path. A child that crashes
// is reported (kInternal, how it ended); one still running after the
// invocation's timeout is killed and reported (kDeadlineExceeded).
//
// Which connections a set has is the caller's `connect`; what a child runs
// is `body`. Thread-compatible: the template's event loop is its only user.
#ifndef SWIFT_DAEMON_WORKER_COLD_INSTANCES_H_
#define SWIFT_DAEMON_WORKER_COLD_INSTANCES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "daemon/worker/connection_set_pool.h"
#include "daemon/worker/instance_processes.h"
#include "proto/worker.pb.h"

namespace swift {

class ColdInstances final {
 public:
  // A connected set for `request` (its cold_function's targets), or why
  // not (naming the peer).
  using Connect = std::function<absl::StatusOr<ConnectionSet>(
      const worker::v1::InvokeRequest& request)>;
  // What a child runs with its socket, its set and the request; must not
  // return.
  using Body =
      std::function<void(SeqpacketSocket, const ConnectionSet&,
                          const worker::v1::InvokeRequest&)>;
  // Where a reply goes (`route` as Serve() got it).
  using Reply = std::function<void(uint64_t route, worker::v1::InvokeReply)>;
  // Takes a set whose child is gone, to close off the reply's path.
  using Retire = std::function<void(ConnectionSet)>;
  // The fds a child must close (all but its own socket).
  using ForeignFds = std::function<std::vector<int>()>;

  ColdInstances(Connect connect, Body body, Reply reply, Retire retire,
                ForeignFds foreign_fds)
      : connect_(std::move(connect)),
        body_(std::move(body)),
        reply_(std::move(reply)),
        retire_(std::move(retire)),
        foreign_fds_(std::move(foreign_fds)) {}
  ColdInstances(const ColdInstances&) = delete;
  ColdInstances& operator=(const ColdInstances&) = delete;
  // Kills and reaps every child, then closes their sets
  // (InstanceProcesses' destructor): the session must still be alive.
  ~ColdInstances() = default;

  // Serve()
  //
  // Connects a set for `request` and forks its child; the reply goes to
  // `reply` with `route` later. Errors (nothing started, the caller
  // replies): kInvalidArgument when the request names no function
  // (cold_function.library_path), `connect`'s error, kResourceExhausted
  // when fork failed.
  absl::Status Serve(const worker::v1::InvokeRequest& request, uint64_t route);

  // OnReadable(): child `id`'s reply (relayed) or its end (reported).
  void OnReadable(uint64_t id);

  // Expire(): kills the children past their invocation's timeout and
  // replies kDeadlineExceeded for them.
  void Expire(absl::Time now);

  // When the next child's timeout falls (InfiniteFuture(): none runs).
  absl::Time NextWake() const;

  // (id, fd) of the template's end of every child's socket.
  std::vector<std::pair<uint64_t, int>> Fds() const {
    return children_.Fds();
  }

  // Children running now, and forked so far.
  uint32_t running() const { return static_cast<uint32_t>(jobs_.size()); }
  uint64_t forks() const { return children_.forks(); }

 private:
  struct Job {
    uint64_t request_id = 0;
    uint64_t route = 0;
    absl::Time started;
    absl::Time deadline;
  };

  // Reaps child `id`, retires its set, and replies `status` for it unless
  // it answered already (OK: nothing to say).
  void End(uint64_t id, const absl::Status& status);

  const Connect connect_;
  const Body body_;
  const Reply reply_;
  const Retire retire_;
  const ForeignFds foreign_fds_;
  // The jobs of children that have not answered yet, by child id.
  std::map<uint64_t, Job> jobs_;
  // Declared last: its destructor kills and reaps the children first.
  InstanceProcesses children_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_COLD_INSTANCES_H_
