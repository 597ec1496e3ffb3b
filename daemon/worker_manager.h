// WorkerManager: the functions registered with swiftd and the worker
// processes (swift_worker) that serve them; the serverless fork path.
//
// Register() spawns a function's worker (as the requested uid, with the
// memlock limit registered memory needs and the memory limit asked for) and
// waits until it has built its RDMA resources. Invoke() runs an invocation
// cold (a fresh worker, built from scratch), warm or fork (through the
// ready worker). A crashing or hanging function comes back as an error and
// never takes the worker or swiftd down. Thread-safe.
#ifndef SWIFT_DAEMON_WORKER_MANAGER_H_
#define SWIFT_DAEMON_WORKER_MANAGER_H_

#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/seqpacket_socket.h"
#include "proto/swift.pb.h"
#include "proto/worker.pb.h"

namespace swift {

class WorkerManager final {
 public:
  struct Options {
    // The swift_worker binary.
    std::string worker_binary;
    // swiftd's Control API socket, which workers broker through.
    std::string swiftd_socket;
    // How long a worker may take to start.
    absl::Duration startup_timeout = absl::Seconds(60);
  };

  explicit WorkerManager(Options options);
  WorkerManager(const WorkerManager&) = delete;
  WorkerManager& operator=(const WorkerManager&) = delete;
  // Shutdown().
  ~WorkerManager();

  // Register()
  //
  // Registers (or re-registers) a function and starts its worker. Errors:
  // kInvalidArgument (bad name, relative path), kAlreadyExists (the name is
  // taken by a live worker), kNotFound (library or worker binary missing),
  // kPermissionDenied (uid change without root), or the worker's own
  // startup error (e.g. kFailedPrecondition on kernels without copy-on-fork
  // for pinned pages, kUnavailable when a peer is unreachable). Blocks
  // until the worker is ready.
  absl::StatusOr<v1::RegisterFunctionResponse> Register(
      const v1::RegisterFunctionRequest& request);

  // Invoke()
  //
  // Runs the invocation and returns the function's result. Errors:
  // kNotFound (no such function), kAborted (the function returned non-zero),
  // kInternal (its instance crashed), kDeadlineExceeded (it hung and was
  // killed), kResourceExhausted (max_instances busy), kUnavailable (the
  // worker is gone). Blocks until then.
  absl::StatusOr<v1::InvokeResponse> Invoke(const v1::InvokeRequest& request);

  // Unregister()
  //
  // Stops the function's worker (it retires its instances and returns its
  // connections; killed after `grace`) and forgets the function, if
  // `authorize` (given its registration) allows. Invocations in flight fail
  // with kUnavailable. kNotFound when no such function is registered.
  absl::StatusOr<v1::UnregisterFunctionResponse> Unregister(
      const std::string& name,
      const std::function<absl::Status(const v1::RegisterFunctionRequest&)>&
          authorize,
      absl::Duration grace = absl::Seconds(5));

  // AttachChannel()
  //
  // Hands a client's direct channel (a copy of `channel`'s fd) to the
  // worker of `function`, which then serves the client's WARM and FORK
  // invocations on it without swiftd. kNotFound (no such function),
  // kUnavailable (its worker has exited).
  absl::Status AttachChannel(const std::string& function,
                             const SeqpacketSocket& channel,
                             const std::string& client_name,
                             int64_t client_pid);

  // Runs `work` on one of the manager's threads (joined at Shutdown()),
  // for callers (gRPC callback handlers) that must not block. Work queues
  // when all threads are busy.
  void RunAsync(std::function<void()> work);

  // Threads RunAsync() uses at most: invocations served at once.
  static constexpr int kAsyncThreads = 32;

  std::vector<v1::WorkerInfo> List() const;

  // Shutdown(): kills every worker (and so their instances), fails the
  // invocations in flight, joins the async threads. Idempotent.
  void Shutdown();

 private:
  class Process;
  struct Function {
    v1::RegisterFunctionRequest spec;
    std::shared_ptr<Process> worker;
    uint64_t invocations = 0;
    uint64_t failures = 0;
  };

  absl::StatusOr<std::shared_ptr<Process>> Spawn(
      const v1::RegisterFunctionRequest& spec, bool cold,
      worker::v1::WorkerReady* ready);

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Function> functions_ ABSL_GUARDED_BY(mu_);
  void AsyncLoop();

  std::vector<std::thread> async_ ABSL_GUARDED_BY(mu_);
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  int idle_threads_ ABSL_GUARDED_BY(mu_) = 0;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_MANAGER_H_
