// Worker: the body of swift_worker, the process swiftd spawns per function.
//
// At start it builds the function's RDMA resources through libswift (device,
// PD, a MAP_SHARED buffer, QPs connected to the peers the function declared,
// `prepared` sets of them), loads the function library, and tells swiftd it
// is ready. Then it serves InvokeRequests from swiftd:
//   FORK  runs the function in a child that has never run: a spare (forked
//         ahead of time, waiting with its connection set and runtime built)
//         or, when no spare is ready, one forked now. Each child takes one
//         prepared connection set; the worker never touches that set again
//         while the child lives. After running, the child stays as an idle
//         instance; the worker forks the next spare once the reply is out;
//   WARM  sends the request to an idle instance (or as FORK when none is);
//   COLD  (a worker started with `cold`) runs the function itself, once.
// A crashing or hanging function is reported to swiftd and its instance
// cleaned up (killed, reaped, its QPs recycled); the worker goes on.
// One poll() loop serves swiftd and the instances; a second thread keeps
// the prepared connection sets topped up and closes retired ones, so that
// no broker round trip sits between a request and its reply. (fork() from
// the loop is safe: children never touch the session or its locks.)
#ifndef SWIFT_DAEMON_WORKER_WORKER_H_
#define SWIFT_DAEMON_WORKER_WORKER_H_

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/worker/fork/provider_doorbell.h"
#include "common/seqpacket_socket.h"
#include "proto/worker.pb.h"
#include "swift/function.h"
#include "swift/session.h"

namespace swift {

class Worker final {
 public:
  struct Options {
    std::string function_path;
    // swiftd's Control API socket (libswift brokers through it).
    std::string socket_path;
    // The peers every instance is connected to: (host, service).
    std::vector<std::pair<std::string, std::string>> targets;
    int prepared = 2;
    // Children forked ahead of FORK requests (they count as instances).
    int spares = 1;
    int max_instances = 8;
    absl::Duration idle_timeout = absl::Seconds(60);
    bool cold = false;
  };

  Worker(Options options, SeqpacketSocket control);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  // Run(): starts up, reports to swiftd and serves until swiftd closes the
  // control socket (or after the one request of a cold worker). Returns the
  // startup error, if any, after reporting it to swiftd.
  absl::Status Run();

 private:
  using ConnectionSet = std::vector<std::unique_ptr<Connection>>;
  // The channel id of requests that came from swiftd.
  static constexpr uint64_t kSwiftd = 0;
  struct Channel {
    SeqpacketSocket socket;
    std::string client_name;
    int64_t client_pid = 0;
  };
  struct Instance {
    pid_t pid = -1;
    std::unique_ptr<SeqpacketSocket> socket;
    ConnectionSet connections;
    bool busy = false;
    // Has never run an invocation: a spare while idle.
    bool fresh = true;
    // The invocation it runs was dispatched to it as a spare.
    bool ran_as_spare = false;
    // Killed to make room; reaped once its socket reports the end.
    bool retiring = false;
    uint64_t request_id = 0;
    worker::v1::InvokeMode mode = worker::v1::FORK;
    // Where its reply goes: kSwiftd or a direct channel.
    uint64_t channel_id = 0;
    absl::Time started;
    absl::Time deadline;
    absl::Time idle_since;

    // Alive and not retiring: what max_instances counts.
    bool live() const { return pid > 0 && !retiring; }
    // Live and free for a request (a spare when also fresh).
    bool idle() const { return live() && !busy; }
  };

  absl::Status Start();
  absl::StatusOr<ConnectionSet> ConnectSet();
  // Takes a prepared set; when none is ready, connects one now if
  // `connect_if_none`, else kUnavailable.
  absl::StatusOr<ConnectionSet> TakePrepared(bool connect_if_none);
  // The background thread: refills prepared_, closes retired sets.
  void MaintainLoop();
  // Serves `request` from swiftd (kSwiftd) or a direct channel; the reply
  // goes back the way the request came.
  void HandleRequest(const worker::v1::InvokeRequest& request,
                     uint64_t channel_id);
  // A client's direct channel, handed over by swiftd (its fd in `fds`).
  void OpenChannel(const worker::v1::OpenChannel& open,
                   std::vector<UniqueFd> fds);
  void HandleChannelReadable(uint64_t channel_id);
  // Forks an instance: it runs `first` at once, or, when `first` is null,
  // waits as a spare. Retires the longest-idle instance when
  // max_instances are alive.
  absl::StatusOr<Instance*> StartInstance(
      const worker::v1::InvokeRequest* first);
  // Hands `request` to an idle instance.
  absl::Status Dispatch(Instance& instance,
                        const worker::v1::InvokeRequest& request,
                        worker::v1::InvokeMode mode);
  void MarkRunning(Instance& instance, const worker::v1::InvokeRequest& request,
                   worker::v1::InvokeMode mode, bool spare);
  // Forks spares until options_.spares are ready, off the request path:
  // when no invocation runs and no request came for a while.
  void TopUpSpares();
  // Spares to fork now (0 while an invocation runs).
  int MissingSpares() const;
  // When TopUpSpares() may fork (InfiniteFuture when none is missing).
  absl::Time NextSpareFork() const;
  Instance* FindIdle(bool fresh);
  [[noreturn]] void RunChild(SeqpacketSocket socket,
                             const ConnectionSet& connections,
                             absl::flat_hash_set<uint32_t> shared_lkeys,
                             const worker::v1::InvokeRequest* first);
  void HandleInstanceReadable(Instance& instance);
  // Instances alive and not retiring: what max_instances counts.
  int LiveInstances() const;
  void Reap(Instance& instance, const absl::Status& reason);
  void ExpireInstances();
  // Sends `reply` to swiftd with the worker's stats (kSwiftd), or on the
  // direct channel `channel_id` if it is still open.
  void Reply(uint64_t channel_id, worker::v1::InvokeReply reply);
  worker::v1::WorkerStats Stats();
  // Tells swiftd the stats when they changed since they were last sent.
  void ReportStatsIfChanged();
  void SendUp(const worker::v1::WorkerUp& up);

  const Options options_;
  pid_t worker_pid_ = 0;
  SeqpacketSocket control_;
  std::unique_ptr<Session> session_;
  void* library_ = nullptr;
  swift_function_fn function_ = nullptr;
  ProviderDoorbell doorbell_;
  std::vector<std::unique_ptr<Instance>> instances_;
  // When the last request arrived or the last reply left: spares are
  // forked once traffic pauses.
  absl::Time last_activity_ = absl::InfinitePast();
  absl::Time spare_retry_at_ = absl::InfinitePast();
  uint64_t forks_ = 0;
  uint64_t spare_hits_ = 0;
  // Clients' direct channels, by id (from 1).
  absl::flat_hash_map<uint64_t, std::unique_ptr<Channel>> channels_;
  uint64_t next_channel_id_ = 1;
  uint64_t channel_invocations_ = 0;
  uint64_t channel_failures_ = 0;
  worker::v1::WorkerStats reported_;

  absl::Mutex mu_;
  std::deque<ConnectionSet> prepared_ ABSL_GUARDED_BY(mu_);
  // Memory regions (lkeys) of prepared connections verified MAP_SHARED in
  // the worker, so that instances need not read /proc/self/maps for them.
  absl::flat_hash_set<uint32_t> shared_lkeys_ ABSL_GUARDED_BY(mu_);
  // Sets whose instance ended: closed (QPs recycled) off the request path.
  std::vector<ConnectionSet> retired_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread maintainer_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_WORKER_H_
