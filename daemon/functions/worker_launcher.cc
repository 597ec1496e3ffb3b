// WorkerLauncher implementation; see worker_launcher.h.
#include "daemon/functions/worker_launcher.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/unix_socket.h"
#include "daemon/functions/function_library.h"
#include "daemon/functions/process_spawner.h"
#include "daemon/functions/tenant_identity.h"

namespace swift {
namespace {

// What a worker failing to start within its memory limit adds to the error
// (nothing when the function has no limit).
std::string MemoryLimitHint(uint64_t memory_limit_bytes) {
  if (memory_limit_bytes == 0) {
    return "";
  }
  return absl::StrCat(" (memory_limit_bytes=", memory_limit_bytes,
                      " may be too small: the worker maps its device, "
                      "threads and libraries within it)");
}

}  // namespace

uint32_t WorkerLauncher::MaxInstances(const v1::RegisterFunctionRequest& spec) {
  return spec.max_instances() == 0 ? 8 : spec.max_instances();
}

uint32_t WorkerLauncher::Spares(const v1::RegisterFunctionRequest& spec) {
  return spec.has_spare_instances() ? spec.spare_instances() : 1;
}

std::vector<std::string> WorkerLauncher::Arguments(
    const v1::RegisterFunctionRequest& spec, bool cold, int control_fd) const {
  const uint32_t spares = cold ? 0 : Spares(spec);
  std::vector<std::string> args = {
      options_.worker_binary,
      absl::StrCat("--control_fd=", control_fd),
      absl::StrCat("--function=", spec.library_path()),
      absl::StrCat("--socket=", options_.swiftd_socket),
      absl::StrCat("--prepared=", spec.prepared() == 0 ? 2 : spec.prepared()),
      absl::StrCat("--spares=", spares),
      absl::StrCat("--max_instances=", MaxInstances(spec)),
      absl::StrCat("--idle_timeout_ms=", spec.idle_timeout_ms() == 0
                                             ? 60000
                                             : spec.idle_timeout_ms())};
  std::vector<std::string> targets;
  for (const v1::FunctionPeer& peer : spec.peers()) {
    targets.push_back(absl::StrCat(peer.host(), "/", peer.service()));
  }
  if (!targets.empty()) {
    args.push_back(absl::StrCat("--connect=", absl::StrJoin(targets, ",")));
  }
  if (cold) {
    args.push_back("--cold");
  }
  return args;
}

absl::StatusOr<TenantIdentity> WorkerLauncher::CheckTenant(
    const v1::RegisterFunctionRequest& spec) const {
  SWIFT_ASSIGN_OR_RETURN(
      TenantIdentity identity,
      ResolveTenantIdentity(spec.uid(), spec.gid(),
                            {options_.swiftd_socket,
                             FastPathSocketPath(options_.swiftd_socket)}));
  // As the tenant, before anything else looks at the library.
  SWIFT_RETURN_IF_ERROR(CheckFunctionLibrary(identity, spec.library_path()));
  return identity;
}

std::vector<std::string> WorkerLauncher::TemplateArguments(
    int control_fd) const {
  return {options_.worker_binary, absl::StrCat("--control_fd=", control_fd),
          absl::StrCat("--socket=", options_.swiftd_socket), "--template"};
}

absl::StatusOr<std::shared_ptr<WorkerProcess>> WorkerLauncher::Launch(
    const v1::RegisterFunctionRequest& spec, bool cold,
    worker::v1::WorkerReady* ready, const Started& started) const {
  SpawnCommand command;
  SWIFT_ASSIGN_OR_RETURN(command.identity, CheckTenant(spec));
  command.memory_limit_bytes = spec.memory_limit_bytes();
  return Spawn(
      std::move(command),
      [&](int control_fd) { return Arguments(spec, cold, control_fd); }, ready,
      started);
}

absl::StatusOr<std::shared_ptr<WorkerProcess>> WorkerLauncher::LaunchTemplate(
    const TenantIdentity& identity, uint64_t memory_limit_bytes) const {
  SpawnCommand command;
  command.identity = identity;
  command.memory_limit_bytes = memory_limit_bytes;
  worker::v1::WorkerReady ready;
  return Spawn(
      std::move(command),
      [this](int control_fd) { return TemplateArguments(control_fd); }, &ready,
      nullptr);
}

absl::StatusOr<std::shared_ptr<WorkerProcess>> WorkerLauncher::Spawn(
    SpawnCommand command,
    const std::function<std::vector<std::string>(int)>& arguments,
    worker::v1::WorkerReady* ready, const Started& started) const {
  if (access(options_.worker_binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("the worker binary ", options_.worker_binary,
                     " is missing or not executable (--worker_binary)"));
  }
  SWIFT_ASSIGN_OR_RETURN(auto pair, SeqpacketSocket::Pair());
  SeqpacketSocket ours = std::move(pair.first);
  SeqpacketSocket theirs = std::move(pair.second);
  const uint64_t memory_limit_bytes = command.memory_limit_bytes;
  command.argv = arguments(theirs.fd());
  command.name = absl::StrCat("the worker binary ", options_.worker_binary);
  command.unlimited_memlock = true;
  command.inherited_fd = theirs.fd();
  command.cpus = options_.cpus;
  command.out_of_memory_hint = MemoryLimitHint(memory_limit_bytes);
  SWIFT_ASSIGN_OR_RETURN(std::unique_ptr<OwnedProcess> process,
                         SpawnProcess(command));
  {
    // Only the worker holds its end now: its exit is EOF on ours.
    SeqpacketSocket close_theirs = std::move(theirs);
  }
  auto worker =
      std::make_shared<WorkerProcess>(std::move(process), std::move(ours));
  if (started) {
    started(worker);
  }
  absl::Status startup = worker->AwaitStartup(options_.startup_timeout, ready);
  if (!startup.ok() && memory_limit_bytes > 0 &&
      (absl::IsInternal(startup) || absl::IsResourceExhausted(startup))) {
    // The likeliest cause of a worker dying or failing to map at startup.
    return absl::Status(startup.code(),
                        absl::StrCat(startup.message(),
                                     MemoryLimitHint(memory_limit_bytes)));
  }
  SWIFT_RETURN_IF_ERROR(startup);
  return worker;
}

}  // namespace swift
