// FunctionRestorer implementation; see function_restorer.h.
#include "daemon/functions/function_restorer.h"

#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "daemon/functions/backoff.h"
#include "glog/logging.h"

namespace swift {

void FunctionRestorer::Restore(
    std::vector<v1::RegisterFunctionRequest> functions) {
  for (v1::RegisterFunctionRequest& spec : functions) {
    const std::string name = spec.name();
    const std::string library = spec.library_path();
    const uint32_t uid = spec.uid();
    const std::optional<uint64_t> id = registry_->BeginRestore(std::move(spec));
    if (!id.has_value()) {
      continue;
    }
    LOG(INFO) << "Restoring function '" << name << "' (" << library << ", uid "
              << uid << ")";
    threads_.Start([this, name, id = *id] { Loop(name, id); });
  }
}

void FunctionRestorer::Loop(const std::string& name, uint64_t id) {
  Backoff backoff(options_.backoff, options_.backoff_max);
  while (true) {
    const std::optional<FunctionRegistry::RestoreAttempt> attempt =
        registry_->NextRestoreAttempt(name, id);
    if (!attempt.has_value()) {
      return;
    }
    worker::v1::WorkerReady ready;
    absl::StatusOr<std::shared_ptr<WorkerProcess>> worker = launch_(
        attempt->spec, &ready, [&](std::shared_ptr<WorkerProcess> process) {
          if (!registry_->SetRestoreStarting(name, id, process)) {
            process->Kill();  // Unregistered or shutting down.
          }
        });
    const pid_t pid = worker.ok() ? (*worker)->pid() : 0;
    const absl::Status error = worker.status();
    const absl::Duration wait = backoff.Next();
    switch (registry_->FinishRestoreAttempt(name, id, std::move(worker),
                                            absl::Now() + wait)) {
      case FunctionRegistry::AttemptOutcome::kEnded:
        return;
      case FunctionRegistry::AttemptOutcome::kRestored:
        LOG(INFO) << "Function '" << name << "' restored: worker pid " << pid
                  << ", started in " << ready.startup_us() << " us with "
                  << ready.ready_connections() << " connection(s), attempt "
                  << attempt->number;
        return;
      case FunctionRegistry::AttemptOutcome::kFailed:
        LOG(WARNING) << "Cannot restore function '" << name << "' (attempt "
                     << attempt->number << "): " << error << "; retrying in "
                     << absl::FormatDuration(wait);
        if (registry_->RestoreEnded(name, id, wait)) {
          return;
        }
        break;
    }
  }
}

}  // namespace swift
