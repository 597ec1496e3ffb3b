// InstanceSupervisor: carries out InstancePool's decisions on the worker's
// children (InstanceProcesses), with sets from the ConnectionSetPool.
//
// Serve() runs a request on an instance: WARM on an idle instance that has
// run; FORK (and WARM when none is idle) on a spare, else on a child forked
// now, each child with a prepared connection set of its own. When
// max_instances are live, the longest-idle instance that has run is killed
// to make room (reaped when its socket reports the end, so the request
// does not wait for a process to die). Every request is answered exactly
// once through the ReplySink: the instance's reply (OnReadable), or the
// error that ended it (a crash, a deadline). Off the request path, Expire()
// ends instances over their deadline or idle too long, and TopUpSpares()
// forks the spares used since, once traffic pauses.
//
// Lifetime: `sets` must outlive the supervisor; its destructor kills and
// reaps every child before their sets close (InstanceProcesses).
// Thread-compatible: the worker's event loop is its only user.
#ifndef SWIFT_DAEMON_WORKER_INSTANCE_SUPERVISOR_H_
#define SWIFT_DAEMON_WORKER_INSTANCE_SUPERVISOR_H_

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/worker/connection_set_pool.h"
#include "daemon/worker/instance_child.h"
#include "daemon/worker/instance_pool.h"
#include "daemon/worker/instance_processes.h"
#include "proto/worker.pb.h"

namespace swift {

class InstanceSupervisor final {
 public:
  // Where an invocation's reply goes: `route` is Serve()'s.
  using ReplySink =
      std::function<void(uint64_t route, worker::v1::InvokeReply reply)>;
  // The worker's fds a child must not keep (swiftd's socket, channels).
  using ForeignFds = std::function<std::vector<int>()>;
  // A parked channel is the worker's to read again (`closed`: its client
  // closed it; drop it).
  using ChannelBack = std::function<void(uint64_t route, bool closed)>;

  InstanceSupervisor(InstancePool::Options policy, InstanceSpec spec,
                     ConnectionSetPool* sets, ReplySink reply,
                     ForeignFds foreign_fds, ChannelBack channel_back = {});
  InstanceSupervisor(const InstanceSupervisor&) = delete;
  InstanceSupervisor& operator=(const InstanceSupervisor&) = delete;

  // Serve()
  //
  // Runs `request` on an instance; its reply goes to `route` later. When
  // `request` carries answer_on_channel and `channel_fd` is the client's
  // channel (not owned; the instance gets a copy), the instance answers the
  // client there and the reply that comes to `route` has `answered` set
  // (and no result): it only says that the invocation ended, and how. An
  // error means no instance took it (the caller answers it):
  // kResourceExhausted when max_instances are busy or fork failed,
  // kUnavailable when no connection set could be had.
  absl::Status Serve(const worker::v1::InvokeRequest& request, uint64_t route,
                     int channel_fd = -1);

  // Park()
  //
  // Hands the client channel `route` (`channel_fd`, not owned) to a spare
  // that holds none, which serves the channel's next request itself
  // (proto/worker.proto ParkChannel); false when no spare is free. The
  // channel comes back through ChannelBack: with that request's end, when
  // its client closes it, or when the spare ends.
  bool Park(uint64_t route, int channel_fd);

  // OnReadable(): instance `id`'s socket is readable: its reply, a parked
  // channel's request starting or the channel coming back, or its end (a
  // crash is answered kInternal, naming the signal).
  void OnReadable(uint64_t id);

  // Expire(): ends the instances past their deadline (answered
  // kDeadlineExceeded) or idle too long.
  void Expire(absl::Time now);

  // TopUpSpares(): forks the missing spares if the policy allows it now.
  void TopUpSpares(absl::Time now);

  // NoteActivity(): a request arrived at `now` (spares wait for a pause).
  void NoteActivity(absl::Time now) { pool_.NoteActivity(now); }

  // When Expire() or TopUpSpares() next has work.
  absl::Time NextWake() const { return pool_.NextWake(); }

  // (id, fd) of every child's socket, for the event loop.
  std::vector<std::pair<uint64_t, int>> Fds() const { return children_.Fds(); }

  // Sets instances, busy, spares, forks and spare_hits in `stats`.
  void FillStats(worker::v1::WorkerStats* stats) const;

 private:
  // Forks an instance that runs `first` (its reply to `route`; the child
  // keeps `channel_fd`, see Serve()), or waits as a spare when `first` is
  // null.
  absl::StatusOr<uint64_t> StartInstance(const worker::v1::InvokeRequest* first,
                                         uint64_t route, int channel_fd);
  // Hands `request` to the idle instance `id`, with `channel_fd` if valid.
  absl::Status Dispatch(uint64_t id, const worker::v1::InvokeRequest& request,
                        worker::v1::InvokeMode mode, uint64_t route,
                        int channel_fd);
  InstancePool::Job JobFor(const worker::v1::InvokeRequest& request,
                           worker::v1::InvokeMode mode, uint64_t route) const;
  // The channel `route` (0: none) is the worker's to read again, or to
  // drop when `closed`.
  void GiveBack(uint64_t route, bool closed);
  // Ends instance `id`; a request it was running is answered with
  // `reason` (kInternal: rewritten to say how the process ended).
  void Reap(uint64_t id, const absl::Status& reason);

  const InstanceSpec spec_;
  ConnectionSetPool* const sets_;
  const ReplySink reply_;
  const ForeignFds foreign_fds_;
  const ChannelBack channel_back_;
  // Also the one record of which instance holds which parked channel.
  InstancePool pool_;
  // Declared last: its children are killed first.
  InstanceProcesses children_;
  uint64_t spare_hits_ = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_INSTANCE_SUPERVISOR_H_
