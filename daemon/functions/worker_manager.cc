// WorkerManager implementation; see worker_manager.h.
#include "daemon/functions/worker_manager.h"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/functions/tenant_identity.h"
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
    : observers_(options.observers),
      launcher_(WorkerLauncher::Options{options.worker_binary,
                                        options.swiftd_socket,
                                        options.startup_timeout, options.cpus}),
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
            absl::StatusOr<std::shared_ptr<WorkerProcess>> worker =
                launcher_.Launch(spec, /*cold=*/false, ready, started);
            if (worker.ok() && observers_.on_worker_started) {
              observers_.on_worker_started("restore");
            }
            return worker;
          },
          FunctionRestorer::Options{options.restore_backoff,
                                    options.restore_backoff_max}) {
  if (options.cold_template_idle_timeout > absl::ZeroDuration()) {
    ColdTemplates::Options templates;
    templates.idle_timeout = options.cold_template_idle_timeout;
    templates_ = std::make_unique<ColdTemplates>(templates);
  }
}

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
  if (observers_.on_worker_started) {
    observers_.on_worker_started("register");
  }
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
    // The claim is given back once the cold worker (or the template's
    // child) is gone.
    reply = claim.ok() ? InvokeCold(target.spec, call, timeout)
                       : claim.status();
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
  const absl::Duration elapsed =
      absl::FromChrono(std::chrono::steady_clock::now() - start);
  invocation_stats_.Record(request.function(), request.mode(),
                           response.status(), elapsed);
  if (observers_.on_invoked) {
    observers_.on_invoked(request.function(), request.mode(), response.status(),
                          elapsed);
  }
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

absl::StatusOr<worker::v1::InvokeReply> WorkerManager::InvokeCold(
    const v1::RegisterFunctionRequest& spec, worker::v1::InvokeRequest call,
    absl::Duration timeout) {
  if (templates_ != nullptr) {
    SWIFT_ASSIGN_OR_RETURN(std::optional<worker::v1::InvokeReply> served,
                           InvokeFromTemplate(spec, call, timeout));
    if (served.has_value()) {
      return *std::move(served);
    }
  }
  worker::v1::WorkerReady ready;
  // The cold worker is killed and reaped once this scope ends.
  absl::StatusOr<std::shared_ptr<WorkerProcess>> worker =
      launcher_.Launch(spec, /*cold=*/true, &ready);
  if (worker.ok() && observers_.on_worker_started) {
    observers_.on_worker_started("cold");
  }
  // The function runs in the cold worker itself, which cannot enforce
  // its timeout: swiftd does, and the worker is killed with this scope
  // (a hung COLD invocation held a worker and its QPs for 30 s more).
  absl::StatusOr<worker::v1::InvokeReply> reply =
      worker.ok() ? (*worker)->Call(call, timeout, kColdGrace)
                  : worker.status();
  if (absl::IsDeadlineExceeded(reply.status())) {
    reply = absl::DeadlineExceededError(absl::StrCat(
        "the function did not return within its timeout (",
        absl::FormatDuration(timeout), "); its cold worker was killed"));
  }
  return reply;
}

absl::StatusOr<std::optional<worker::v1::InvokeReply>>
WorkerManager::InvokeFromTemplate(const v1::RegisterFunctionRequest& spec,
                                  worker::v1::InvokeRequest call,
                                  absl::Duration timeout) {
  // The same checks, in the same order, as a fresh worker's launch: the
  // template runs as the tenant, and its child opens only what the tenant
  // may read and nobody else may change.
  SWIFT_ASSIGN_OR_RETURN(TenantIdentity identity,
                         launcher_.CheckTenant(spec));
  const ColdTemplates::Key key{identity.uid, identity.gid,
                               spec.memory_limit_bytes()};
  absl::StatusOr<ColdTemplates::Lease> lease =
      templates_->Acquire(key, [&] {
        return launcher_.LaunchTemplate(identity, spec.memory_limit_bytes());
      });
  if (!lease.ok()) {
    LOG(WARNING) << "COLD invocation of '" << spec.name()
                 << "' runs in a fresh worker: no cold template for uid "
                 << key.uid << " gid " << key.gid << " memory limit "
                 << key.memory_limit_bytes << ": " << lease.status();
    return std::nullopt;
  }
  const pid_t pid = lease->process().pid();
  if (lease->launched()) {
    LOG(INFO) << "Cold template for uid " << key.uid << " gid " << key.gid
              << " memory limit " << key.memory_limit_bytes << " ready: pid "
              << pid;
  }
  call.mutable_cold_function()->set_library_path(spec.library_path());
  for (const v1::FunctionPeer& peer : spec.peers()) {
    call.mutable_cold_function()->add_targets(
        absl::StrCat(peer.host(), "/", peer.service()));
  }
  // The template kills a child past its timeout and says so; swiftd's
  // grace covers only a template that stopped answering, which is killed.
  absl::StatusOr<worker::v1::InvokeReply> reply =
      lease->process().Call(call, timeout, kColdGrace);
  if (absl::IsDeadlineExceeded(reply.status())) {
    lease->Discard();
    return absl::DeadlineExceededError(absl::StrCat(
        "the function did not return within its timeout (",
        absl::FormatDuration(timeout), ") and its cold template (pid ", pid,
        ") stopped answering; the template was killed"));
  }
  if (absl::IsUnavailable(reply.status())) {
    return absl::UnavailableError(absl::StrCat(
        "the cold template (pid ", pid, ") serving uid ", key.uid,
        " exited during the invocation (killed?); the invocation's outcome "
        "is unknown, and the next COLD invocation starts another template"));
  }
  return reply;
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
  invocation_stats_.Forget(name);
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
  if (templates_ != nullptr) {
    templates_->Shutdown();
  }
  registry_.Close();
  restorer_.Join();
}

}  // namespace swift
