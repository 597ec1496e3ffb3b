// WorkerProcess: swiftd's handle on one running swift_worker process: its
// control socket (proto/worker.proto), the invocations waiting for their
// replies, and the worker's last reported stats.
//
// A reader thread (started once the worker reports ready) routes replies
// to their callers; the end of the process (EOF on the socket) reaps it
// and fails whatever still waits with kUnavailable. The process itself is
// an OwnedProcess: whichever way this handle ends (a worker that failed
// or timed out at startup, a COLD worker after its one call, an
// unregistered one), the worker is killed and reaped. Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_WORKER_PROCESS_H_
#define SWIFT_DAEMON_FUNCTIONS_WORKER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "daemon/functions/owned_process.h"
#include "proto/worker.pb.h"

namespace swift {

class WorkerProcess final {
 public:
  // Takes over the spawned worker `process` (not null) and swiftd's end of
  // its control socket.
  WorkerProcess(std::unique_ptr<OwnedProcess> process, SeqpacketSocket socket)
      : process_(std::move(process)), socket_(std::move(socket)) {}
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;
  // Kills the worker (if still running), joins the reader and reaps the
  // worker.
  ~WorkerProcess();

  pid_t pid() const { return process_->pid(); }

  // AwaitStartup()
  //
  // Waits for the worker's first message: OK with `*ready` filled (and the
  // reader started), the worker's own startup error, kDeadlineExceeded
  // after `timeout`, or kInternal saying how the worker ended.
  absl::Status AwaitStartup(absl::Duration timeout,
                            worker::v1::WorkerReady* ready);

  // Call()
  //
  // Sends `request` (numbered by this handle: its id is ignored) and waits
  // for its reply. kUnavailable when the worker has exited (before or
  // during the call), kDeadlineExceeded when no reply came within
  // `timeout` + `grace`. A worker that runs its instances as children
  // enforces `timeout` itself (the default grace only guards against a
  // worker that stopped answering); a COLD worker runs the function in its
  // own process and cannot, so its caller passes a short grace and kills it.
  absl::StatusOr<worker::v1::InvokeReply> Call(
      worker::v1::InvokeRequest request, absl::Duration timeout,
      absl::Duration grace = absl::Seconds(30));

  // Sends the worker a client's direct channel (a copy of `fd`).
  absl::Status SendChannel(int fd, const worker::v1::OpenChannel& open);

  // Stop()
  //
  // Closes the control socket's sending side: the worker retires (kills
  // its instances, returns its connections) and exits. Killed if it has
  // not exited within `grace`.
  void Stop(absl::Duration grace);

  // Kills the worker and its process group (its instances). Does not wait:
  // the reader (or the destructor) reaps it.
  void Kill();

  // Whether the worker has exited (and been reaped).
  bool exited() const;

  // What the worker last reported it holds.
  worker::v1::WorkerStats stats() const;

 private:
  struct Pending {
    bool done = false;
    absl::Status status;
    worker::v1::InvokeReply reply;
  };

  // Why a worker that closed its socket before reporting ended; reaps it.
  std::string DescribeStartupExit();
  // The reader: routes replies until the worker closes its socket, then
  // reaps it and fails the calls still waiting.
  void ReadLoop();
  // Marks the worker exited (it has been reaped).
  void SetExited() ABSL_LOCKS_EXCLUDED(mu_);

  // Declared first: destroyed (killed and reaped) last, once the reader
  // has been joined.
  const std::unique_ptr<OwnedProcess> process_;
  SeqpacketSocket socket_;
  absl::Mutex send_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Pending>> pending_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool exited_ ABSL_GUARDED_BY(mu_) = false;
  worker::v1::WorkerStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread reader_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_WORKER_PROCESS_H_
