// WorkerManager implementation; see worker_manager.h.
#include "daemon/functions/worker_manager.h"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/functions/worker_process.h"
#include "glog/logging.h"
#include "proto/invoke_reply.h"
#include "proto/worker.pb.h"
#include "swift/defaults.h"

namespace swift {
namespace {

// How long past its timeout a COLD invocation may take to answer before
// swiftd gives up and kills its worker: the reply's way back only.
constexpr absl::Duration kColdGrace = absl::Seconds(1);

// `status` with its message prefixed by "function 'NAME': ".
absl::Status ForFunction(const std::string& name, const absl::Status& status) {
  return absl::Status(
      status.code(), absl::StrCat("function '", name, "': ", status.message()));
}

absl::Status WorkerExited(const std::string& name) {
  return absl::UnavailableError(
      absl::StrCat("the worker of function '", name,
                   "' has exited; register the function again"));
}

}  // namespace

WorkerManager::WorkerManager(Options options)
    : launcher_(WorkerLauncher::Options{options.worker_binary,
                                        options.swiftd_socket,
                                        options.startup_timeout}),
      quotas_(
          options.quotas,
          [this] {
            std::vector<TenantQuotas::Registered> registered;
            for (FunctionRegistry::Footprint& function :
                 registry_.Footprints()) {
              registered.push_back(TenantQuotas::Registered{
                  std::move(function.name), function.uid, function.instances});
            }
            return registered;
          }),
      registry_(options.store),
      restorer_(
          &registry_,
          [this](const v1::RegisterFunctionRequest& spec,
                 worker::v1::WorkerReady* ready,
                 const WorkerLauncher::Started& started) {
            return launcher_.Launch(spec, /*cold=*/false, ready, started);
          },
          FunctionRestorer::Options{options.restore_backoff,
                                    options.restore_backoff_max}) {}

WorkerManager::~WorkerManager() { registry_.Close(); }

absl::StatusOr<v1::RegisterFunctionResponse> WorkerManager::Register(
    const v1::RegisterFunctionRequest& request) {
  if (request.name().empty() || request.library_path().empty() ||
      request.library_path()[0] != '/') {
    return absl::InvalidArgumentError(
        "a function needs a name and an absolute library_path");
  }
  // Refused before its worker starts, rather than after. The library is
  // looked at only by Launch(), as the tenant (function_library.h).
  SWIFT_RETURN_IF_ERROR(registry_.CheckStorable(request));
  SWIFT_RETURN_IF_ERROR(registry_.CheckAvailable(request));
  // Held until the registry counts the function (or it failed).
  SWIFT_ASSIGN_OR_RETURN(
      TenantQuotas::Claim claim,
      quotas_.ClaimFunction(request.name(), request.uid(),
                            uint64_t{WorkerLauncher::MaxInstances(request)} +
                                WorkerLauncher::Spares(request)));
  worker::v1::WorkerReady ready;
  absl::StatusOr<std::shared_ptr<WorkerProcess>> worker =
      launcher_.Launch(request, /*cold=*/false, &ready);
  if (!worker.ok()) {
    return ForFunction(request.name(), worker.status());
  }
  const pid_t pid = (*worker)->pid();
  // A worker the registry does not keep is killed and reaped on return.
  SWIFT_RETURN_IF_ERROR(registry_.Add(request, *std::move(worker)));
  LOG(INFO) << "Function '" << request.name() << "' ready: worker pid " << pid
            << ", started in " << ready.startup_us() << " us with "
            << ready.ready_connections() << " connection(s)";
  v1::RegisterFunctionResponse response;
  response.set_worker_pid(pid);
  response.set_worker_startup_us(ready.startup_us());
  return response;
}

absl::StatusOr<v1::InvokeResponse> WorkerManager::Invoke(
    const v1::InvokeRequest& request,
    const FunctionRegistry::Authorize& authorize) {
  const auto start = std::chrono::steady_clock::now();
  const bool cold = request.mode() == v1::InvokeRequest::COLD;
  SWIFT_ASSIGN_OR_RETURN(
      FunctionRegistry::Target target,
      registry_.BeginInvocation(request.function(), cold, authorize));
  worker::v1::InvokeRequest call;
  call.set_payload(request.payload());
  call.set_timeout_ms(request.timeout_ms() == 0
                          ? absl::ToInt64Milliseconds(kDefaultCallTimeout)
                          : request.timeout_ms());
  const absl::Duration timeout = absl::Milliseconds(call.timeout_ms());
  absl::StatusOr<worker::v1::InvokeReply> reply;
  if (cold) {
    call.set_mode(worker::v1::COLD);
    // The tenant is the function's user (only it and root may invoke it).
    absl::StatusOr<TenantQuotas::Claim> claim =
        quotas_.ClaimColdWorker(target.spec.uid());
    if (claim.ok()) {
      worker::v1::WorkerReady ready;
      // The cold worker is killed and reaped once this scope ends, before
      // the claim is given back.
      absl::StatusOr<std::shared_ptr<WorkerProcess>> worker =
          launcher_.Launch(target.spec, /*cold=*/true, &ready);
      // The function runs in the cold worker itself, which cannot enforce
      // its timeout: swiftd does, and the worker is killed with this scope
      // (a hung COLD invocation held a worker and its QPs for 30 s more).
      reply = worker.ok() ? (*worker)->Call(call, timeout, kColdGrace)
                          : worker.status();
      if (absl::IsDeadlineExceeded(reply.status())) {
        reply = absl::DeadlineExceededError(absl::StrCat(
            "the function did not return within its timeout (",
            absl::FormatDuration(timeout), "); its cold worker was killed"));
      }
    } else {
      reply = claim.status();
    }
  } else if (target.worker == nullptr || target.worker->exited()) {
    reply = WorkerExited(request.function());
  } else {
    call.set_mode(request.mode() == v1::InvokeRequest::WARM ? worker::v1::WARM
                                                            : worker::v1::FORK);
    reply = target.worker->Call(call, timeout);
  }
  absl::StatusOr<v1::InvokeResponse> response =
      reply.ok() ? ToInvokeResponse(*reply, request.function())
                 : ForFunction(request.function(), reply.status());
  if (!response.ok()) {
    registry_.CountFailure(request.function());
    return response;
  }
  response->set_total_us(
      static_cast<uint64_t>(std::chrono::duration<double, std::micro>(
                                std::chrono::steady_clock::now() - start)
                                .count()));
  return response;
}

absl::Status WorkerManager::AttachChannel(
    const std::string& function, const SeqpacketSocket& channel,
    const std::string& client_name, int64_t client_pid,
    const FunctionRegistry::Authorize& authorize) {
  SWIFT_ASSIGN_OR_RETURN(std::shared_ptr<WorkerProcess> worker,
                         registry_.WorkerOf(function, authorize));
  if (worker == nullptr || worker->exited()) {
    return WorkerExited(function);
  }
  worker::v1::OpenChannel open;
  open.set_client_name(client_name);
  open.set_client_pid(client_pid);
  return worker->SendChannel(channel.fd(), open);
}

absl::StatusOr<v1::UnregisterFunctionResponse> WorkerManager::Unregister(
    const std::string& name,
    const std::function<absl::Status(const v1::RegisterFunctionRequest&)>&
        authorize,
    absl::Duration grace) {
  SWIFT_ASSIGN_OR_RETURN(FunctionRegistry::Removed removed,
                         registry_.Remove(name, authorize));
  v1::UnregisterFunctionResponse response;
  if (removed.worker != nullptr) {
    response.set_worker_pid(removed.worker->pid());
    removed.worker->Stop(grace);
  }
  if (removed.starting != nullptr) {
    // Half-started for a restore: nothing runs in it yet.
    response.set_worker_pid(removed.starting->pid());
    removed.starting->Kill();
  }
  LOG(INFO) << "Function '" << name << "' unregistered"
            << (removed.restoring ? " while being restored" : "")
            << (response.worker_pid() != 0
                    ? absl::StrCat(" (worker pid ", response.worker_pid(),
                                   " stopped)")
                    : std::string(" (no worker ran)"));
  return response;
}

void WorkerManager::Restore(
    std::vector<v1::RegisterFunctionRequest> functions) {
  restorer_.Restore(std::move(functions));
}

std::vector<v1::WorkerInfo> WorkerManager::List() const {
  return registry_.List();
}

void WorkerManager::Shutdown() {
  // What the destructor leaves to RAII, in the same order.
  registry_.Close();
  restorer_.Join();
}

}  // namespace swift
