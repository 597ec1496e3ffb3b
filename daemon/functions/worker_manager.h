// WorkerManager: the functions registered with swiftd and the worker
// processes (swift_worker) that serve them; the serverless fork path.
//
// Register() spawns a function's worker (as the requested uid, with the
// memlock limit registered memory needs and the memory limit asked for) and
// waits until it has built its RDMA resources. Invoke() runs an invocation
// cold (a fresh worker, built from scratch), warm or fork (through the
// ready worker). A crashing or hanging function comes back as an error and
// never takes the worker or swiftd down.
//
// With a FunctionStore, registrations outlive swiftd: Register() stores
// each one and Unregister() deletes it, and Restore() (at startup)
// registers the stored functions again in the background, retrying with
// backoff while their workers cannot start (peers may not be up yet).
//
// A facade over the pieces that do the work, one job each:
// FunctionRegistry (names, registrations, workers, counters, the store),
// WorkerLauncher (a registration into a ready worker; its fork/exec is
// SpawnProcess()'s) and FunctionRestorer (restore with backoff).
// Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_WORKER_MANAGER_H_
#define SWIFT_DAEMON_FUNCTIONS_WORKER_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cpu_set.h"
#include "common/seqpacket_socket.h"
#include "daemon/functions/cold_templates.h"
#include "daemon/functions/function_registry.h"
#include "daemon/functions/function_restorer.h"
#include "daemon/functions/function_store.h"
#include "daemon/functions/invocation_stats.h"
#include "daemon/functions/tenant_quotas.h"
#include "daemon/functions/worker_launcher.h"
#include "proto/swift.pb.h"

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
    // The CPUs workers run on; empty: swiftd's (SpawnCommand::cpus).
    CpuSet cpus;
    // Where registrations are kept across restarts (not owned; must
    // outlive the manager); null: in memory only.
    const FunctionStore* store = nullptr;
    // Restore() retries a function whose worker fails to start after
    // restore_backoff, doubling up to restore_backoff_max.
    absl::Duration restore_backoff = absl::Seconds(1);
    absl::Duration restore_backoff_max = absl::Seconds(60);
    // What each tenant (the uid a function runs as) may hold, and the
    // workers swiftd runs in all (tenant_quotas.h).
    TenantQuotas::Limits quotas;
    // COLD invocations are served by a child of the tenant's cold template
    // (ColdTemplates), which is stopped once idle for this long; zero: no
    // templates, every COLD invocation starts a fresh worker.
    absl::Duration cold_template_idle_timeout = absl::ZeroDuration();
    // Told of events as they happen (metrics: daemon/metrics/
    // function_metrics.h); each may be empty. Called on the thread the
    // event happened on, without the manager's locks: quick, and never
    // calling the manager.
    struct Observers {
      // An invocation that reached a registered function ended.
      std::function<void(const std::string& function,
                         v1::InvokeRequest::Mode mode,
                         const absl::Status& result, absl::Duration elapsed)>
          on_invoked;
      // A worker got ready: "register", "cold" (a COLD invocation's fresh
      // worker) or "restore".
      std::function<void(const char* reason)> on_worker_started;
    };
    Observers observers;
  };

  explicit WorkerManager(Options options);
  WorkerManager(const WorkerManager&) = delete;
  WorkerManager& operator=(const WorkerManager&) = delete;
  // Shutdown(), by RAII: closes the registry, then the members' own
  // destructors join the restore threads and reap the workers.
  ~WorkerManager();

  // Register()
  //
  // Registers (or re-registers) a function and starts its worker.
  // `request` is as AuthorizeRegistration() filled it in: its uid is the
  // tenant. Errors: kInvalidArgument (bad name, relative path),
  // kPermissionDenied (another tenant registered the name: it stays its
  // own until unregistered, even after its worker exited; whose is not
  // said), kAlreadyExists (the name is taken by a live worker, or while Restore()
  // brings it back after a restart), kResourceExhausted naming the quota's
  // flag (TenantQuotas::ClaimFunction()), the library's errors, checked as
  // the tenant (CheckFunctionLibrary(): kNotFound alike whether it is
  // missing or unreadable to the tenant, kPermissionDenied when others
  // could change it), kNotFound (worker binary missing), or the worker's
  // own startup error (e.g. kFailedPrecondition on kernels without
  // copy-on-fork for pinned pages, kUnavailable when a peer is
  // unreachable). With a store, the registration (without its header) is
  // saved once the worker is ready; when that fails the worker is stopped
  // and the store's error returned, and a name the store cannot encode is
  // kInvalidArgument before anything starts. Blocks until the worker is
  // ready.
  absl::StatusOr<v1::RegisterFunctionResponse> Register(
      const v1::RegisterFunctionRequest& request);

  // Invoke()
  //
  // Runs the invocation and returns the function's result. A COLD one
  // runs in a child forked for it by its tenant's cold template (one per
  // uid, gid and memory limit; started on first use) when templates are
  // on, else (or when the template cannot start, the reason logged) in a
  // fresh worker. Errors:
  // kNotFound (no such function), kAborted (the function returned non-zero),
  // kInternal (its instance crashed), kDeadlineExceeded (it hung and was
  // killed), kResourceExhausted (max_instances busy; for COLD, over
  // --max_cold_workers_per_tenant or --max_workers), kUnavailable (the
  // worker is gone, or the function is still being restored and only
  // COLD can run), or `authorize`'s error (given the registration; checked
  // before anything runs). Blocks until then.
  absl::StatusOr<v1::InvokeResponse> Invoke(
      const v1::InvokeRequest& request,
      const FunctionRegistry::Authorize& authorize);

  // Unregister()
  //
  // Stops the function's worker (it retires its instances and returns its
  // connections; killed after `grace`) and forgets the function, if
  // `authorize` (given its registration) allows. Invocations in flight fail
  // with kUnavailable. kNotFound when no such function is registered.
  // A function still being restored stops being retried. With a store its
  // file is deleted first; if that fails, the store's error is returned
  // and the function stays registered.
  absl::StatusOr<v1::UnregisterFunctionResponse> Unregister(
      const std::string& name,
      const std::function<absl::Status(const v1::RegisterFunctionRequest&)>&
          authorize,
      absl::Duration grace = absl::Seconds(5));

  // AttachChannel()
  //
  // Hands a client's direct channel (a copy of `channel`'s fd) to the
  // worker of `function`, which then serves the client's WARM and FORK
  // invocations on it without swiftd, if `authorize` (given the
  // registration) allows (its error otherwise). kNotFound (no such
  // function), kUnavailable (its worker has exited or is still being
  // restored).
  absl::Status AttachChannel(const std::string& function,
                             const SeqpacketSocket& channel,
                             const std::string& client_name, int64_t client_pid,
                             const FunctionRegistry::Authorize& authorize);

  // Restore()
  //
  // Registers `functions` (as the store loaded them, authorized when first
  // registered) again, each on a thread of its own, and returns at once.
  // Until a function's worker is ready List() shows it "restoring", or
  // "failed: <reason>, retrying in <N>s" between attempts (after
  // restore_backoff, doubling up to restore_backoff_max); Register() of
  // its name is kAlreadyExists, and Unregister() ends the retries. Names
  // registered already are skipped. Does nothing after Shutdown().
  void Restore(std::vector<v1::RegisterFunctionRequest> functions);

  // List()
  //
  // Every registered function, sorted by name, with its state ("ready",
  // "exited", or a restore's state, see Restore()), counters and instances.
  std::vector<v1::WorkerInfo> List() const;

  // Counts and latencies of the invocations Invoke() ran, per function
  // and mode (WorkerInfo.by_mode); a function's go with Unregister().
  // Kept whether or not observers are set.
  const InvocationStats& invocation_stats() const { return invocation_stats_; }

  // What tenant `uid`'s functions hold against its quotas, and the quotas.
  TenantQuotas::Usage QuotaUsage(uid_t uid) const {
    return quotas_.UsageOf(uid);
  }
  TenantQuotas::Limits quota_limits() const { return quotas_.limits(); }
  // New quotas (a config reload), for what is registered or invoked next.
  void SetQuotaLimits(const TenantQuotas::Limits& limits) {
    quotas_.SetLimits(limits);
  }
  // Workers held in all, against --max_workers.
  uint32_t workers_held() const { return quotas_.workers(); }
  // The pids of the cold templates running now (none when they are off).
  std::vector<pid_t> cold_template_pids() const {
    return templates_ == nullptr ? std::vector<pid_t>() : templates_->Pids();
  }

  // Shutdown(): kills every worker (and so their instances) and every
  // worker still starting for Restore(), fails the invocations in flight,
  // joins the restore threads, and kills the cold templates. Idempotent.
  void Shutdown();

 private:
  // A COLD invocation's reply: from a template's child when one can serve
  // it, else from a fresh worker.
  absl::StatusOr<worker::v1::InvokeReply> InvokeCold(
      const v1::RegisterFunctionRequest& spec,
      worker::v1::InvokeRequest call, absl::Duration timeout);
  // From the tenant's cold template; nullopt when none can be had (the
  // caller falls back), or the error of the tenant's checks.
  absl::StatusOr<std::optional<worker::v1::InvokeReply>> InvokeFromTemplate(
      const v1::RegisterFunctionRequest& spec,
      worker::v1::InvokeRequest call, absl::Duration timeout);

  // Members are torn down in reverse order: once the registry is closed
  // (which makes blocked work return), the restore threads are joined,
  // then the workers are reaped.
  // First: the restore threads may call them until they are joined.
  const Options::Observers observers_;
  // Invoke() records into it; kept past everything that may invoke.
  InvocationStats invocation_stats_;
  const WorkerLauncher launcher_;
  // Counts the registry's functions (through a callback) and the claims of
  // registrations and COLD invocations in flight.
  TenantQuotas quotas_;
  FunctionRegistry registry_;
  FunctionRestorer restorer_;
  // Null when templates are off. Destroyed first: its templates are
  // killed before anything else goes.
  std::unique_ptr<ColdTemplates> templates_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_WORKER_MANAGER_H_
