// WorkerProcess: swiftd's handle on one running swift_worker process: its
// control socket (proto/worker.proto), the invocations waiting for their
// replies, and the worker's last reported stats.
//
// A reader thread (started once the worker reports ready) routes replies
// to their callers; the end of the process (EOF on the socket) reaps it
// and fails whatever still waits with kUnavailable. Thread-safe.
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
#include "proto/worker.pb.h"

namespace swift {

class WorkerProcess final {
 public:
  // Takes over the spawned worker `pid` and swiftd's end of its socket.
  WorkerProcess(pid_t pid, SeqpacketSocket socket)
      : pid_(pid), socket_(std::move(socket)) {}
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;
  // Kills the worker (if still running) and joins the reader.
  ~WorkerProcess();

  pid_t pid() const { return pid_; }

  // AwaitStartup()
  //
  // Waits for the worker's first message: OK with `*ready` filled (and the
  // reader started), the worker's own startup error, kDeadlineExceeded
  // after `timeout`, or kInternal saying how the worker ended.
  absl::Status AwaitStartup(absl::Duration timeout,
                            worker::v1::WorkerReady* ready);

  // Call()
  //
  // Sends `request` and waits for its reply. kUnavailable when the worker
  // has exited (before or during the call), kDeadlineExceeded when it
  // stopped answering well past `timeout` (which the worker enforces).
  absl::StatusOr<worker::v1::InvokeReply> Call(
      const worker::v1::InvokeRequest& request, absl::Duration timeout);

  // Sends the worker a client's direct channel (a copy of `fd`).
  absl::Status SendChannel(int fd, const worker::v1::OpenChannel& open);

  // Stop()
  //
  // Closes the control socket's sending side: the worker retires (kills
  // its instances, returns its connections) and exits. Killed if it has
  // not exited within `grace`.
  void Stop(absl::Duration grace);

  // Kills the worker and its process group (its instances).
  void Kill();

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
  void ReadLoop();

  const pid_t pid_;
  SeqpacketSocket socket_;
  absl::Mutex send_mu_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Pending>> pending_
      ABSL_GUARDED_BY(mu_);
  bool exited_ ABSL_GUARDED_BY(mu_) = false;
  bool reaped_ ABSL_GUARDED_BY(mu_) = false;
  worker::v1::WorkerStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread reader_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_WORKER_PROCESS_H_
