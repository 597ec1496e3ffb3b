// FunctionRestorer: brings the functions of swiftd's state directory back
// after a restart, in the background, retrying with backoff.
//
// Each function gets a thread of its own, which registers it as being
// restored (FunctionRegistry::BeginRestore()) and starts its worker until
// one gets ready, waiting restore_backoff after the first failure, twice
// that after the next, up to restore_backoff_max (Backoff). Peers may not
// be up yet after a reboot, so a worker that cannot start now may start
// later. A restore ends when its function is restored, unregistered or
// registered anew, or the registry is closed; a thread waiting for its
// next attempt sees that at once.
//
// Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_FUNCTION_RESTORER_H_
#define SWIFT_DAEMON_FUNCTIONS_FUNCTION_RESTORER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/functions/function_registry.h"
#include "daemon/functions/thread_group.h"
#include "daemon/functions/worker_launcher.h"
#include "daemon/functions/worker_process.h"
#include "proto/swift.pb.h"
#include "proto/worker.pb.h"

namespace swift {

class FunctionRestorer final {
 public:
  struct Options {
    // The wait after a failed attempt, doubling up to backoff_max.
    absl::Duration backoff = absl::Seconds(1);
    absl::Duration backoff_max = absl::Seconds(60);
  };

  // Starts a worker for a registration (WorkerLauncher::Launch(), not
  // cold), giving it to `started` as soon as it exists.
  using Launch = std::function<absl::StatusOr<std::shared_ptr<WorkerProcess>>(
      const v1::RegisterFunctionRequest& spec, worker::v1::WorkerReady* ready,
      const WorkerLauncher::Started& started)>;

  // `registry` (not owned) must outlive the restorer.
  FunctionRestorer(FunctionRegistry* registry, Launch launch, Options options)
      : registry_(registry), launch_(std::move(launch)), options_(options) {}
  FunctionRestorer(const FunctionRestorer&) = delete;
  FunctionRestorer& operator=(const FunctionRestorer&) = delete;
  // Joins every restore thread (threads_, destroyed first): close the
  // registry first.
  ~FunctionRestorer() = default;

  // Restore()
  //
  // Restores `functions` (as the store loaded them, authorized when first
  // registered), each on a thread of its own, and returns at once. Names
  // registered already are skipped, and everything once the registry is
  // closed.
  void Restore(std::vector<v1::RegisterFunctionRequest> functions);

  // Join()
  //
  // Waits for every restore thread to end, which each does when its
  // restore ends: close the registry first for a prompt return.
  void Join() { threads_.JoinAll(); }

 private:
  // A restore thread: attempts restore `id` of `name` until it ends.
  void Loop(const std::string& name, uint64_t id);

  FunctionRegistry* const registry_;
  const Launch launch_;
  const Options options_;
  ThreadGroup threads_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_FUNCTION_RESTORER_H_
