// WorkerLauncher: turns a function's registration into a ready worker
// process (swift_worker, daemon/worker/worker_main.cc).
//
// It owns the worker's side of the contract at startup: the command line
// (flags and their defaults), the tenant the worker runs as (resolved and
// checked before anything starts), its limits (memlock unlimited, the
// registration's memory limit as RLIMIT_AS), the control socket it
// inherits, and the wait for its first message (proto/worker.proto:
// WorkerReady or WorkerFailed). Fork and exec are SpawnProcess()'s.
// Thread-safe: it holds only its options.
#ifndef SWIFT_DAEMON_FUNCTIONS_WORKER_LAUNCHER_H_
#define SWIFT_DAEMON_FUNCTIONS_WORKER_LAUNCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cpu_set.h"
#include "daemon/functions/process_spawner.h"
#include "daemon/functions/tenant_identity.h"
#include "daemon/functions/worker_process.h"
#include "proto/swift.pb.h"
#include "proto/worker.pb.h"

namespace swift {

class WorkerLauncher final {
 public:
  struct Options {
    // The swift_worker binary (absolute path).
    std::string worker_binary;
    // swiftd's Control API socket, which workers broker through.
    std::string swiftd_socket;
    // How long a worker may take to start.
    absl::Duration startup_timeout = absl::Seconds(60);
    // The CPUs workers run on; empty: swiftd's (SpawnCommand::cpus).
    CpuSet cpus;
  };

  // Called with a worker as soon as its process exists, before it is
  // ready, so that the caller can kill it meanwhile (Kill() makes Launch()
  // return an error at once).
  using Started = std::function<void(std::shared_ptr<WorkerProcess>)>;

  explicit WorkerLauncher(Options options) : options_(std::move(options)) {}

  // MaxInstances()
  //
  // The instances a worker for `spec` runs at most (its max_instances, or
  // the default, 8).
  static uint32_t MaxInstances(const v1::RegisterFunctionRequest& spec);

  // Spares()
  //
  // The spare instances a (not cold) worker for `spec` keeps (its
  // spare_instances, or the default, 1).
  static uint32_t Spares(const v1::RegisterFunctionRequest& spec);

  // Arguments()
  //
  // The command line (argv, the binary first) of a worker for `spec`,
  // which inherits its control socket as `control_fd`; `cold` for a worker
  // that serves one invocation and exits (no spares).
  std::vector<std::string> Arguments(const v1::RegisterFunctionRequest& spec,
                                     bool cold, int control_fd) const;

  // Launch()
  //
  // Starts a worker for `spec` (library_path absolute) and waits until it
  // is ready: OK with `*ready` filled. `started`, if set, gets the worker
  // as soon as its process runs. The tenant is resolved first, then the
  // library checked as the tenant (nothing about it is looked at before:
  // function_library.h). Errors: the tenant's (ResolveTenantIdentity()),
  // the library's (CheckFunctionLibrary(): kNotFound alike for a missing
  // library and one the tenant may not read, kPermissionDenied for one
  // others could change), kNotFound for the worker binary (naming
  // --worker_binary), SpawnProcess()'s errors, kDeadlineExceeded when the
  // worker is not ready within startup_timeout, kInternal saying how a
  // worker that died at startup ended, or the worker's own startup error
  // (e.g. kFailedPrecondition, kUnavailable). With a memory limit, an error it
  // may explain (kInternal, kResourceExhausted, ENOMEM at exec) names
  // memory_limit_bytes. A worker that did not get ready is killed and
  // reaped before this returns (unless `started` kept a reference).
  absl::StatusOr<std::shared_ptr<WorkerProcess>> Launch(
      const v1::RegisterFunctionRequest& spec, bool cold,
      worker::v1::WorkerReady* ready, const Started& started = nullptr) const;

  // CheckTenant()
  //
  // What Launch() checks before it starts anything, in the same order and
  // with the same errors: the tenant of `spec` resolved
  // (ResolveTenantIdentity()), then its library checked as the tenant
  // (CheckFunctionLibrary()). Returns the identity.
  absl::StatusOr<TenantIdentity> CheckTenant(
      const v1::RegisterFunctionRequest& spec) const;

  // TemplateArguments(): the command line of a cold template
  // (swift_worker --template) that inherits its control socket as
  // `control_fd`.
  std::vector<std::string> TemplateArguments(int control_fd) const;

  // LaunchTemplate()
  //
  // Starts a cold template (ColdTemplates) as `identity` (resolved by
  // CheckTenant()) within `memory_limit_bytes` (RLIMIT_AS; 0: none) and
  // waits until it is ready. Errors as Launch()'s from the worker binary
  // on.
  absl::StatusOr<std::shared_ptr<WorkerProcess>> LaunchTemplate(
      const TenantIdentity& identity, uint64_t memory_limit_bytes) const;

 private:
  // Spawns `command` (argv without its control fd, which is added) with a
  // new control socket and waits for the worker's first message; `hint`
  // is added to errors a memory limit may explain.
  absl::StatusOr<std::shared_ptr<WorkerProcess>> Spawn(
      SpawnCommand command,
      const std::function<std::vector<std::string>(int)>& arguments,
      worker::v1::WorkerReady* ready, const Started& started) const;

  const Options options_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_WORKER_LAUNCHER_H_
