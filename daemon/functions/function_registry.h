// FunctionRegistry: the functions registered with swiftd, by name: each
// one's registration, its worker, its counters, and while Restore()
// brings it back after a restart, how that goes.
//
// The registry decides what a name allows (register, invoke, attach a
// channel, unregister) and keeps the FunctionStore in step with itself:
// a registration is stored before it counts and deleted before it is
// forgotten, under the registry's lock, so that a racing unregister cannot
// leave a file behind. It starts no process: WorkerLauncher does, for
// WorkerManager and FunctionRestorer, which hand the workers in.
//
// Workers are shared: an invocation in flight keeps its worker; the last
// holder's drop kills and reaps it (WorkerProcess). The registry never
// drops a worker under its lock. Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_FUNCTION_REGISTRY_H_
#define SWIFT_DAEMON_FUNCTIONS_FUNCTION_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/functions/function_store.h"
#include "daemon/functions/worker_process.h"
#include "proto/swift.pb.h"

namespace swift {

class FunctionRegistry final {
 public:
  // Whether a caller may use (invoke, open a channel to, unregister) a
  // function, given its registration: OK or the reason it may not.
  using Authorize =
      std::function<absl::Status(const v1::RegisterFunctionRequest&)>;

  // A function to invoke: its registration and its worker (null while it
  // is being restored, and for a function whose worker never started).
  struct Target {
    v1::RegisterFunctionRequest spec;
    std::shared_ptr<WorkerProcess> worker;
  };

  // What Remove() took out, for the caller to stop.
  struct Removed {
    std::shared_ptr<WorkerProcess> worker;
    // A worker a restore was starting (not ready yet).
    std::shared_ptr<WorkerProcess> starting;
    bool restoring = false;
  };

  // A restore's next attempt: the registration and the attempt's number
  // (1 for the first).
  struct RestoreAttempt {
    v1::RegisterFunctionRequest spec;
    int number = 0;
  };

  // `store` (null: in memory only) must outlive the registry.
  explicit FunctionRegistry(const FunctionStore* store) : store_(store) {}
  FunctionRegistry(const FunctionRegistry&) = delete;
  FunctionRegistry& operator=(const FunctionRegistry&) = delete;
  // Close().
  ~FunctionRegistry() { Close(); }

  // CheckStorable()
  //
  // OK unless the store cannot keep `spec`'s name (FunctionStore::Save()'s
  // kInvalidArgument); always OK without a store.
  absl::Status CheckStorable(const v1::RegisterFunctionRequest& spec) const;

  // CheckAvailable()
  //
  // OK when `spec.name()` may be registered now for tenant `spec.uid()`.
  // A registered name belongs to its tenant until unregistered, whatever
  // its worker's state (one whose worker crashed was taken over by another
  // user; issue 10): kPermissionDenied for another tenant's name (without
  // saying whose, as ServiceRegistry does for service names). For the
  // tenant's own name: kAlreadyExists while a live worker serves it or a
  // restore brings it back (an exited worker is replaced). kUnavailable
  // once closed.
  absl::Status CheckAvailable(const v1::RegisterFunctionRequest& spec) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Add()
  //
  // Registers `spec` with its ready `worker` (replacing an exited one),
  // storing it first. Errors: kUnavailable once closed, kPermissionDenied
  // when another tenant holds the name (CheckAvailable()), kAlreadyExists
  // while a restore brings the name back, or the store's error (the
  // function is then not registered). The worker is not kept on error.
  absl::Status Add(const v1::RegisterFunctionRequest& spec,
                   std::shared_ptr<WorkerProcess> worker)
      ABSL_LOCKS_EXCLUDED(mu_);

  // BeginInvocation()
  //
  // The function `name` to invoke, counted as one invocation, if
  // `authorize` allows (its error otherwise, nothing counted). kNotFound
  // when it is not registered; kUnavailable while it is being restored,
  // unless `cold` (a COLD invocation starts a worker of its own).
  absl::StatusOr<Target> BeginInvocation(const std::string& name, bool cold,
                                         const Authorize& authorize)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Counts a failed invocation of `name` (if still registered).
  void CountFailure(const std::string& name) ABSL_LOCKS_EXCLUDED(mu_);

  // WorkerOf()
  //
  // The worker of `name` (null if it never started), if `authorize`
  // allows (its error otherwise): kNotFound when it is not registered,
  // kUnavailable while it is being restored.
  absl::StatusOr<std::shared_ptr<WorkerProcess>> WorkerOf(
      const std::string& name, const Authorize& authorize) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Remove()
  //
  // Forgets `name` if `authorize` allows (its error otherwise), deleting
  // its stored file first: if that fails, the store's error is returned
  // and the function stays. kNotFound when it is not registered. Its
  // restore, if any, ends.
  absl::StatusOr<Removed> Remove(const std::string& name,
                                 const Authorize& authorize)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The restore side, for FunctionRestorer. A restore of a name is
  // identified by the id BeginRestore() returns and ends (the calls below
  // say so) when the name is unregistered, restored, or the registry
  // closed.

  // BeginRestore()
  //
  // Registers `spec` as being restored, with no worker yet; its restore's
  // id, or nullopt when the name is taken or the registry closed.
  std::optional<uint64_t> BeginRestore(v1::RegisterFunctionRequest spec)
      ABSL_LOCKS_EXCLUDED(mu_);

  // NextRestoreAttempt()
  //
  // Counts and returns restore `id`'s next attempt; nullopt once it ended.
  std::optional<RestoreAttempt> NextRestoreAttempt(const std::string& name,
                                                   uint64_t id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // SetRestoreStarting()
  //
  // Records the worker restore `id` is starting, so that Remove() and
  // Close() can kill it. False once the restore ended: kill it yourself.
  bool SetRestoreStarting(const std::string& name, uint64_t id,
                          std::shared_ptr<WorkerProcess> worker)
      ABSL_LOCKS_EXCLUDED(mu_);

  // What became of a restore attempt.
  enum class AttemptOutcome {
    // The worker is the function's now.
    kRestored,
    // The error is recorded for List(); the next attempt is due.
    kFailed,
    // The restore had ended meanwhile: nothing was kept.
    kEnded,
  };

  // FinishRestoreAttempt()
  //
  // Ends an attempt of restore `id`, with its worker or its error (then
  // the next attempt is due at `next_attempt`).
  AttemptOutcome FinishRestoreAttempt(
      const std::string& name, uint64_t id,
      absl::StatusOr<std::shared_ptr<WorkerProcess>> worker,
      absl::Time next_attempt) ABSL_LOCKS_EXCLUDED(mu_);

  // RestoreEnded()
  //
  // Waits up to `timeout` for restore `id` to end; whether it has.
  bool RestoreEnded(const std::string& name, uint64_t id,
                    absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // A function as quotas count it (TenantQuotas).
  struct Footprint {
    std::string name;
    // Who it runs as.
    uint32_t uid = 0;
    // max_instances + spare instances.
    uint64_t instances = 0;
  };

  // Footprints()
  //
  // Every function, being restored included, unsorted.
  std::vector<Footprint> Footprints() const ABSL_LOCKS_EXCLUDED(mu_);

  // List()
  //
  // Every function, sorted by name, with its state ("ready", "exited",
  // "starting", "restoring", or "failed: <reason>, retrying in <N>s"
  // between restore attempts), counters (the worker's direct-channel
  // invocations included) and what its worker holds.
  std::vector<v1::WorkerInfo> List() const ABSL_LOCKS_EXCLUDED(mu_);

  // Close()
  //
  // Forgets every function (without touching the store: a shutdown is no
  // unregister), kills every worker, starting ones included (invocations
  // in flight fail), ends every restore, and refuses whatever comes next.
  // Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A restore in progress.
  struct Restore {
    uint64_t id = 0;
    // The worker this attempt is starting, the attempts so far, the last
    // one's error and when the next one begins.
    std::shared_ptr<WorkerProcess> starting;
    int attempts = 0;
    absl::Status error;
    absl::Time next_attempt;
  };
  struct Function {
    v1::RegisterFunctionRequest spec;
    std::shared_ptr<WorkerProcess> worker;
    uint64_t invocations = 0;
    uint64_t failures = 0;
    std::optional<Restore> restore;
  };

  // The function `name` while restore `id` is bringing it back; null once
  // that restore ended.
  Function* Restoring(const std::string& name, uint64_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // List()'s state of `function`.
  static std::string StateOf(const Function& function);

  const FunctionStore* const store_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Function> functions_ ABSL_GUARDED_BY(mu_);
  uint64_t next_restore_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_FUNCTION_REGISTRY_H_
