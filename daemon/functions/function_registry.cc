// FunctionRegistry implementation; see function_registry.h.
#include "daemon/functions/function_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "daemon/functions/worker_launcher.h"
#include "glog/logging.h"

namespace swift {
namespace {

absl::Status NotRegistered(const std::string& name) {
  return absl::NotFoundError(
      absl::StrCat("no function '", name, "' is registered"));
}

absl::Status ShuttingDown() {
  return absl::UnavailableError("swiftd is shutting down");
}

// What an invocation or a channel is told about a function a restore has
// not brought back yet.
absl::Status StillRestoring(const std::string& name) {
  return absl::UnavailableError(absl::StrCat(
      "function '", name,
      "' is being restored after swiftd restarted and has no worker yet "
      "(`swiftctl workers` shows its state); try again shortly"));
}

// What a registration of a name a restore brings back is told.
absl::Status BeingRestored(const std::string& name) {
  return absl::AlreadyExistsError(absl::StrCat(
      "function '", name,
      "' is being restored after swiftd restarted (`swiftctl workers` shows "
      "its state); unregister it first to register it anew"));
}

// The entry of `name` in `functions` (the registry's map, const or not,
// its lock held) if `authorize` allows its registration: kNotFound when it
// is not registered, else `authorize`'s error.
template <typename Map>
auto FindAuthorized(Map& functions, const std::string& name,
                    const FunctionRegistry::Authorize& authorize)
    -> absl::StatusOr<decltype(&functions.begin()->second)> {
  auto it = functions.find(name);
  if (it == functions.end()) {
    return NotRegistered(name);
  }
  if (absl::Status allowed = authorize(it->second.spec); !allowed.ok()) {
    return allowed;
  }
  return &it->second;
}

// What a tenant is told of a name another tenant registered: not whose it
// is (uids and names of other tenants are theirs to know).
absl::Status AnotherTenants(const std::string& name) {
  return absl::PermissionDeniedError(absl::StrCat(
      "function '", name,
      "' is registered by another user; choose another name"));
}

}  // namespace

absl::Status FunctionRegistry::CheckStorable(
    const v1::RegisterFunctionRequest& spec) const {
  if (store_ == nullptr || !FunctionStore::FileName(spec.name()).empty()) {
    return absl::OkStatus();
  }
  return store_->Save(spec);  // Refuses the name, writing nothing.
}

absl::Status FunctionRegistry::CheckAvailable(
    const v1::RegisterFunctionRequest& spec) const {
  const std::string& name = spec.name();
  absl::MutexLock lock(&mu_);
  if (closed_) {
    return ShuttingDown();
  }
  auto it = functions_.find(name);
  if (it == functions_.end()) {
    return absl::OkStatus();
  }
  // Whatever its worker's state: a crashed worker does not free the name
  // (another user registered the same name after a crash and took it over,
  // with it whatever its clients meant for the owner's function).
  if (it->second.spec.uid() != spec.uid()) {
    return AnotherTenants(name);
  }
  if (it->second.restore.has_value()) {
    return BeingRestored(name);
  }
  if (it->second.worker != nullptr && !it->second.worker->exited()) {
    return absl::AlreadyExistsError(
        absl::StrCat("function '", name, "' is registered (worker pid ",
                     it->second.worker->pid(), ")"));
  }
  return absl::OkStatus();
}

absl::Status FunctionRegistry::Add(const v1::RegisterFunctionRequest& spec,
                                   std::shared_ptr<WorkerProcess> worker) {
  // Outlives the lock: a worker replaced (or not kept) is dropped after.
  std::shared_ptr<WorkerProcess> dropped = std::move(worker);
  absl::MutexLock lock(&mu_);
  if (closed_) {
    return ShuttingDown();
  }
  if (auto it = functions_.find(spec.name()); it != functions_.end()) {
    // Checked again: another tenant may have registered the name while
    // this worker started.
    if (it->second.spec.uid() != spec.uid()) {
      return AnotherTenants(spec.name());
    }
    if (it->second.restore.has_value()) {
      // A restore took the name while this worker started.
      return BeingRestored(spec.name());
    }
  }
  if (store_ != nullptr) {
    // Under the lock, so that a racing Remove() cannot delete the file
    // before it is written (and the function come back after a restart).
    if (absl::Status saved = store_->Save(spec); !saved.ok()) {
      LOG(ERROR) << "Function '" << spec.name()
                 << "' not registered: cannot store it: " << saved;
      return absl::Status(
          saved.code(),
          absl::StrCat("function '", spec.name(),
                       "' was not registered: swiftd could not store it in ",
                       store_->directory(),
                       " to restore it after a restart: ", saved.message()));
    }
  }
  Function& function = functions_[spec.name()];
  function.spec = spec;
  std::swap(function.worker, dropped);
  return absl::OkStatus();
}

absl::StatusOr<FunctionRegistry::Target> FunctionRegistry::BeginInvocation(
    const std::string& name, bool cold, const Authorize& authorize) {
  absl::MutexLock lock(&mu_);
  SWIFT_ASSIGN_OR_RETURN(Function * function,
                         FindAuthorized(functions_, name, authorize));
  if (function->restore.has_value() && !cold) {
    return StillRestoring(name);
  }
  ++function->invocations;
  return Target{function->spec, function->worker};
}

void FunctionRegistry::CountFailure(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (auto it = functions_.find(name); it != functions_.end()) {
    ++it->second.failures;
  }
}

absl::StatusOr<std::shared_ptr<WorkerProcess>> FunctionRegistry::WorkerOf(
    const std::string& name, const Authorize& authorize) const {
  absl::MutexLock lock(&mu_);
  SWIFT_ASSIGN_OR_RETURN(const Function* function,
                         FindAuthorized(functions_, name, authorize));
  if (function->restore.has_value()) {
    return StillRestoring(name);
  }
  return function->worker;
}

absl::StatusOr<FunctionRegistry::Removed> FunctionRegistry::Remove(
    const std::string& name, const Authorize& authorize) {
  absl::MutexLock lock(&mu_);
  auto it = functions_.find(name);
  if (it == functions_.end()) {
    return NotRegistered(name);
  }
  SWIFT_RETURN_IF_ERROR(authorize(it->second.spec));
  if (store_ != nullptr) {
    // First, so that a function that stays in the store stays registered.
    if (absl::Status removed = store_->Remove(name); !removed.ok()) {
      return absl::Status(
          removed.code(),
          absl::StrCat("function '", name,
                       "' is still registered: swiftd could not delete it "
                       "from ",
                       store_->directory(), ": ", removed.message()));
    }
  }
  Removed removed;
  removed.worker = std::move(it->second.worker);
  if (it->second.restore.has_value()) {
    removed.restoring = true;
    removed.starting = std::move(it->second.restore->starting);
  }
  // Its restore, if any, sees it gone (RestoreEnded()) and ends.
  functions_.erase(it);
  return removed;
}

std::optional<uint64_t> FunctionRegistry::BeginRestore(
    v1::RegisterFunctionRequest spec) {
  absl::MutexLock lock(&mu_);
  if (closed_ || functions_.contains(spec.name())) {
    return std::nullopt;
  }
  Function& function = functions_[spec.name()];
  function.spec = std::move(spec);
  Restore restore;
  restore.id = next_restore_id_++;
  function.restore = std::move(restore);
  return function.restore->id;
}

FunctionRegistry::Function* FunctionRegistry::Restoring(const std::string& name,
                                                        uint64_t id) {
  if (closed_) {
    return nullptr;
  }
  auto it = functions_.find(name);
  if (it == functions_.end() || !it->second.restore.has_value() ||
      it->second.restore->id != id) {
    return nullptr;
  }
  return &it->second;
}

std::optional<FunctionRegistry::RestoreAttempt>
FunctionRegistry::NextRestoreAttempt(const std::string& name, uint64_t id) {
  absl::MutexLock lock(&mu_);
  Function* function = Restoring(name, id);
  if (function == nullptr) {
    return std::nullopt;
  }
  return RestoreAttempt{function->spec, ++function->restore->attempts};
}

bool FunctionRegistry::SetRestoreStarting(
    const std::string& name, uint64_t id,
    std::shared_ptr<WorkerProcess> worker) {
  std::shared_ptr<WorkerProcess> dropped = std::move(worker);
  absl::MutexLock lock(&mu_);
  Function* function = Restoring(name, id);
  if (function == nullptr) {
    return false;
  }
  std::swap(function->restore->starting, dropped);
  return true;
}

FunctionRegistry::AttemptOutcome FunctionRegistry::FinishRestoreAttempt(
    const std::string& name, uint64_t id,
    absl::StatusOr<std::shared_ptr<WorkerProcess>> worker,
    absl::Time next_attempt) {
  // Outlive the lock: workers not kept are dropped after it.
  std::shared_ptr<WorkerProcess> starting;
  absl::StatusOr<std::shared_ptr<WorkerProcess>> result = std::move(worker);
  absl::MutexLock lock(&mu_);
  Function* function = Restoring(name, id);
  if (function == nullptr) {
    return AttemptOutcome::kEnded;
  }
  starting = std::move(function->restore->starting);
  if (!result.ok()) {
    function->restore->error = result.status();
    function->restore->next_attempt = next_attempt;
    return AttemptOutcome::kFailed;
  }
  function->worker = *std::move(result);
  function->restore.reset();
  return AttemptOutcome::kRestored;
}

bool FunctionRegistry::RestoreEnded(const std::string& name, uint64_t id,
                                    absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ended = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return Restoring(name, id) == nullptr;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
}

std::string FunctionRegistry::StateOf(const Function& function) {
  if (!function.restore.has_value()) {
    return function.worker == nullptr  ? "starting"
           : function.worker->exited() ? "exited"
                                       : "ready";
  }
  const Restore& restore = *function.restore;
  if (restore.error.ok()) {
    return "restoring";
  }
  const absl::Duration wait = restore.next_attempt - absl::Now();
  if (wait <= absl::ZeroDuration()) {
    return absl::StrCat("restoring (attempt ", restore.attempts + 1,
                        "; the last failed: ", restore.error.message(), ")");
  }
  return absl::StrCat("failed: ", restore.error.message(), ", retrying in ",
                      absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))),
                      "s");
}

std::vector<FunctionRegistry::Footprint> FunctionRegistry::Footprints() const {
  std::vector<Footprint> footprints;
  absl::MutexLock lock(&mu_);
  footprints.reserve(functions_.size());
  for (const auto& [name, function] : functions_) {
    footprints.push_back(
        Footprint{name, function.spec.uid(),
                  uint64_t{WorkerLauncher::MaxInstances(function.spec)} +
                      WorkerLauncher::Spares(function.spec)});
  }
  return footprints;
}

std::vector<v1::WorkerInfo> FunctionRegistry::List() const {
  std::vector<v1::WorkerInfo> workers;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, function] : functions_) {
    v1::WorkerInfo info;
    info.set_function(name);
    info.set_library_path(function.spec.library_path());
    info.set_worker_pid(function.worker ? function.worker->pid() : 0);
    info.set_state(StateOf(function));
    const worker::v1::WorkerStats stats = function.worker != nullptr
                                              ? function.worker->stats()
                                              : worker::v1::WorkerStats();
    info.set_invocations(function.invocations + stats.channel_invocations());
    info.set_failures(function.failures + stats.channel_failures());
    *info.mutable_peers() = function.spec.peers();
    info.set_max_instances(WorkerLauncher::MaxInstances(function.spec));
    info.set_uid(function.spec.uid());
    info.set_memory_limit_bytes(function.spec.memory_limit_bytes());
    if (function.worker != nullptr && !function.worker->exited()) {
      info.set_instances(stats.instances());
      info.set_busy_instances(stats.busy());
      info.set_spare_instances(stats.spares());
      info.set_prepared_sets(stats.prepared_sets());
      info.set_forks(stats.forks());
      info.set_spare_hits(stats.spare_hits());
    }
    workers.push_back(std::move(info));
  }
  std::sort(workers.begin(), workers.end(), [](const auto& a, const auto& b) {
    return a.function() < b.function();
  });
  return workers;
}

void FunctionRegistry::Close() {
  absl::flat_hash_map<std::string, Function> closed;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    closed.swap(functions_);
  }
  // Outside the lock: dropping a worker waits for it to be reaped.
  for (auto& [name, function] : closed) {
    if (function.worker != nullptr) {
      function.worker->Kill();
    }
    if (function.restore.has_value() && function.restore->starting) {
      function.restore->starting->Kill();
    }
  }
}

}  // namespace swift
