// Worker: the body of swift_worker, the process swiftd spawns per function.
//
// At start it loads the function library, builds the function's RDMA
// resources through libswift (device, PD, a MAP_SHARED buffer, QPs
// connected to the peers the function declared, `prepared` sets of them),
// and tells swiftd it is ready. Then it serves invocations, from swiftd
// (proto/worker.proto) and from clients' direct channels
// (proto/fast_path.proto, translated at the edge: channel_messages.h):
//   FORK  runs the function in a child that has never run: a spare (forked
//         ahead of time, waiting with its connection set and runtime built)
//         or, when no spare is ready, one forked now. Each child takes one
//         prepared connection set; the worker never touches that set again
//         while the child lives. After running, the child stays as an idle
//         instance; the worker forks the next spare once traffic pauses;
//   WARM  sends the request to an idle instance (or as FORK when none is);
//   COLD  (a worker started with `cold`) runs the function itself, once.
// A worker started with `template_mode` is a tenant's cold template
// instead: it loads no function and connects nothing at start (only the
// session: device, PD, registered buffer, QPs in INIT) and serves only
// COLD requests that name their function, each in a child forked for it
// (ColdInstances, cold_child.h).
// A crashing or hanging function is reported and its instance cleaned up
// (killed, reaped, its QPs recycled); the worker goes on.
//
// Who does what: FunctionLibrary (the .so), ConnectionSetPool (prepared
// sets, refilled and closed on its own thread, so that no broker round
// trip sits between a request and its reply), InstanceSupervisor (the
// children, by InstancePool's policy), DirectChannels, SwiftdLink, and
// EventLoop (one poll() loop; fork() from it is safe: children never
// touch the session or its locks). The Worker wires them and routes each
// reply back the way its request came.
#ifndef SWIFT_DAEMON_WORKER_WORKER_H_
#define SWIFT_DAEMON_WORKER_WORKER_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "daemon/worker/cold_instances.h"
#include "daemon/worker/connection_set_pool.h"
#include "daemon/worker/direct_channels.h"
#include "daemon/worker/event_loop.h"
#include "daemon/worker/fork/provider_doorbell.h"
#include "daemon/worker/function_library.h"
#include "daemon/worker/instance_supervisor.h"
#include "daemon/worker/swiftd_link.h"
#include "proto/worker.pb.h"
#include "swift/session.h"

namespace swift {

class Worker final : private EventLoop::Handler {
 public:
  struct Options {
    std::string function_path;
    // swiftd's Control API socket (libswift brokers through it).
    std::string socket_path;
    // The peers every instance is connected to: (host, service).
    ConnectionSetPool::Targets targets;
    int prepared = 2;
    // Children forked ahead of FORK requests (they count as instances).
    int spares = 1;
    int max_instances = 8;
    absl::Duration idle_timeout = absl::Seconds(60);
    bool cold = false;
    // A cold template (see above); function_path and targets unused.
    bool template_mode = false;
  };

  // `control` is the worker's end of its socket to swiftd.
  Worker(Options options, SeqpacketSocket control);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  // Tears down in reverse order of the members (see them).
  ~Worker() override = default;

  // Run()
  //
  // Starts up, reports to swiftd and serves until swiftd closes the
  // control socket (or after the one request of a cold worker). Returns
  // the startup error, if any, after reporting it to swiftd.
  absl::Status Run();

 private:
  // The route of requests that came from swiftd; channels have ids from 1.
  static constexpr uint64_t kSwiftd = 0;
  // EventLoop::Watch kinds.
  enum Kind : int { kInstance, kChannel, kControl, kColdInstance };

  absl::Status Start();
  // A cold template's start: the session only.
  absl::Status StartTemplate();
  // A connected set for a cold template's request (its cold_function's
  // targets), the doorbell detected on the first one.
  absl::StatusOr<ConnectionSet> ConnectCold(
      const worker::v1::InvokeRequest& request);
  // Once no cold child runs, connects one set ahead for each peer list a
  // cold request took a set of since (one attempt each).
  void RefillCold(absl::Time now);
  // Serves `request` from `route`; the reply goes back the same way.
  void HandleRequest(const worker::v1::InvokeRequest& request, uint64_t route);
  // A cold worker's one invocation, in this process.
  void RunCold(const worker::v1::InvokeRequest& request, uint64_t route);
  // A request arrived: spares and stats wait for the next pause.
  void NoteActivity();
  // Sends `reply` to swiftd with the stats, or on channel `route`.
  void Reply(uint64_t route, worker::v1::InvokeReply reply);
  worker::v1::WorkerStats Stats();
  // The fds a forked instance must close (all but its own socket).
  std::vector<int> ForeignFds() const;

  // EventLoop::Handler.
  std::vector<EventLoop::Watch> Watches() override;
  absl::Time NextWake() override;
  bool OnReadable(const EventLoop::Watch& watch) override;
  void OnRound() override;
  // swiftd's message; false when swiftd closed (or a cold worker is done).
  bool OnControl();

  // Members are destroyed bottom-up, which is the teardown order: client
  // channels close; children are killed and reaped, then their sets close
  // (a live child could still post on its QPs); the set pool's maintenance
  // thread stops, then its prepared and retired sets close; then the
  // session, which every Connection must precede (its QPs, CQs and MR
  // belong to the session's context and PD); the function library stays
  // loaded (function_library.h); swiftd's socket closes last, so swiftd
  // sees the worker end once everything is released.
  const Options options_;
  SwiftdLink swiftd_;
  std::optional<FunctionLibrary> library_;
  std::unique_ptr<Session> session_;
  // One device: its doorbell is detected once, not in every instance.
  ProviderDoorbell doorbell_;
  std::unique_ptr<ConnectionSetPool> sets_;
  // A cold template's: a pool per distinct targets (the first set
  // connected on demand; then one connected ahead after each reply, off
  // the request's path, by RefillCold(); it keeps the MAP_SHARED checks),
  // the pools to refill and when, one pool that closes retired sets on its
  // thread, the memory regions verified so far, and the children.
  absl::flat_hash_map<std::string, std::unique_ptr<ConnectionSetPool>>
      cold_pools_;
  absl::flat_hash_set<std::string> cold_to_refill_;
  absl::Time cold_refill_at_ = absl::InfiniteFuture();
  std::unique_ptr<ConnectionSetPool> cold_retired_;
  absl::flat_hash_set<uint32_t> cold_lkeys_;
  bool doorbell_detected_ = false;
  std::unique_ptr<ColdInstances> cold_;
  std::unique_ptr<InstanceSupervisor> instances_;
  DirectChannels channels_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_WORKER_H_
