// WorkerManager implementation; see worker_manager.h.
#include "daemon/functions/worker_manager.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"
#include "common/unix_socket.h"
#include "daemon/functions/tenant_identity.h"
#include "glog/logging.h"
#include "proto/invoke_reply.h"

namespace swift {
namespace {

// What failed in a spawned worker's child before its exec, as it reports
// it on the exec-report pipe.
struct ExecReport {
  enum Stage : int { kIdentity = 1, kExec = 2 };
  int stage = 0;
  int error = 0;
};

// What Invoke() and AttachChannel() say about a function Restore() has not
// brought back yet.
absl::Status StillRestoring(const std::string& function) {
  return absl::UnavailableError(absl::StrCat(
      "function '", function,
      "' is being restored after swiftd restarted and has no worker yet "
      "(`swiftctl workers` shows its state); try again shortly"));
}

// What Register() says about a name Restore() is bringing back.
absl::Status BeingRestored(const std::string& function) {
  return absl::AlreadyExistsError(absl::StrCat(
      "function '", function,
      "' is being restored after swiftd restarted (`swiftctl workers` shows "
      "its state); unregister it first to register it anew"));
}

// What a worker failing to start within its memory limit adds to the error
// (nothing when the function has no limit).
std::string MemoryLimitHint(const v1::RegisterFunctionRequest& spec) {
  if (spec.memory_limit_bytes() == 0) {
    return "";
  }
  return absl::StrCat(" (memory_limit_bytes=", spec.memory_limit_bytes(),
                      " may be too small: the worker maps its device, "
                      "threads and libraries within it)");
}

absl::Status LibraryReadable(const std::string& library_path) {
  if (access(library_path.c_str(), R_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("no readable function library at ", library_path));
  }
  return absl::OkStatus();
}

}  // namespace

WorkerManager::WorkerManager(Options options) : options_(std::move(options)) {}

WorkerManager::~WorkerManager() { Shutdown(); }

absl::StatusOr<std::shared_ptr<WorkerManager::Process>> WorkerManager::Spawn(
    const v1::RegisterFunctionRequest& spec, bool cold,
    worker::v1::WorkerReady* ready,
    const std::function<void(std::shared_ptr<Process>)>& started) {
  if (access(options_.worker_binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("the worker binary ", options_.worker_binary,
                     " is missing or not executable (--worker_binary)"));
  }
  absl::StatusOr<TenantIdentity> identity = ResolveTenantIdentity(
      spec.uid(), spec.gid(),
      {options_.swiftd_socket, FastPathSocketPath(options_.swiftd_socket)});
  if (!identity.ok()) {
    return identity.status();
  }
  SWIFT_RETURN_IF_ERROR(CheckTenantCanRead(*identity, spec.library_path()));
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> pair =
      SeqpacketSocket::Pair();
  if (!pair.ok()) {
    return pair.status();
  }
  std::vector<std::string> args = {
      options_.worker_binary,
      absl::StrCat("--control_fd=", pair->second.fd()),
      absl::StrCat("--function=", spec.library_path()),
      absl::StrCat("--socket=", options_.swiftd_socket),
      absl::StrCat("--prepared=", spec.prepared() == 0 ? 2 : spec.prepared()),
      absl::StrCat("--spares=", cold ? 0
                                : spec.has_spare_instances()
                                    ? spec.spare_instances()
                                    : 1),
      absl::StrCat("--max_instances=",
                   spec.max_instances() == 0 ? 8 : spec.max_instances()),
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
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  // Closed by a successful exec (O_CLOEXEC): no bytes means the worker
  // binary runs; otherwise the child says what failed.
  int report_pipe[2];
  if (pipe2(report_pipe, O_CLOEXEC) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("pipe2: ", strerror(errno)));
  }
  UniqueFd report_read(report_pipe[0]);
  UniqueFd report_write(report_pipe[1]);
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    // The worker and its instances form a process group swiftd can kill.
    setpgid(0, 0);
    const int fd = pair->second.fd();
    fcntl(fd, F_SETFD, 0);  // Inherited across exec.
    rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_MEMLOCK, &unlimited);
    if (spec.memory_limit_bytes() > 0) {
      rlimit memory = {spec.memory_limit_bytes(), spec.memory_limit_bytes()};
      setrlimit(RLIMIT_AS, &memory);
    }
    ExecReport report;
    if (!ApplyTenantIdentity(*identity)) {
      report = {ExecReport::kIdentity, errno};
    } else {
      execv(argv[0], argv.data());
      report = {ExecReport::kExec, errno};
    }
    (void)!write(report_write.get(), &report, sizeof(report));
    _exit(127);
  }
  report_write = UniqueFd();
  SeqpacketSocket ours = std::move(pair->first);
  { SeqpacketSocket theirs = std::move(pair->second); }
  ExecReport report;
  ssize_t got;
  do {
    got = read(report_read.get(), &report, sizeof(report));
  } while (got < 0 && errno == EINTR);
  if (got == sizeof(report)) {
    waitpid(pid, nullptr, 0);
    if (report.stage == ExecReport::kIdentity) {
      return absl::PermissionDeniedError(
          absl::StrCat("could not switch the worker to uid ", identity->uid,
                       " gid ", identity->gid, ": ", strerror(report.error)));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "could not execute the worker binary ", options_.worker_binary,
        identity->switch_user ? absl::StrCat(" as uid ", identity->uid)
                              : std::string(),
        ": ", strerror(report.error),
        report.error == ENOMEM ? MemoryLimitHint(spec) : std::string()));
  }
  auto process = std::make_shared<Process>(pid, std::move(ours));
  if (started) {
    started(process);
  }
  absl::Status startup = process->AwaitStartup(options_.startup_timeout, ready);
  if (!startup.ok() && spec.memory_limit_bytes() > 0 &&
      (absl::IsInternal(startup) || absl::IsResourceExhausted(startup))) {
    // The likeliest cause of a worker dying or failing to map at startup.
    return absl::Status(startup.code(),
                        absl::StrCat(startup.message(), MemoryLimitHint(spec)));
  }
  if (!startup.ok()) {
    return startup;
  }
  return process;
}

absl::StatusOr<v1::RegisterFunctionResponse> WorkerManager::Register(
    const v1::RegisterFunctionRequest& request) {
  if (request.name().empty() || request.library_path().empty() ||
      request.library_path()[0] != '/') {
    return absl::InvalidArgumentError(
        "a function needs a name and an absolute library_path");
  }
  SWIFT_RETURN_IF_ERROR(LibraryReadable(request.library_path()));
  if (options_.store != nullptr &&
      FunctionStore::FileName(request.name()).empty()) {
    // Refused before its worker starts, rather than after.
    return options_.store->Save(request);
  }
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      return absl::UnavailableError("swiftd is shutting down");
    }
    auto it = functions_.find(request.name());
    if (it != functions_.end() && it->second.restoring) {
      return BeingRestored(request.name());
    }
    if (it != functions_.end() && it->second.worker != nullptr &&
        !it->second.worker->exited()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "function '", request.name(), "' is registered (worker pid ",
          it->second.worker->pid(), ")"));
    }
  }
  worker::v1::WorkerReady ready;
  absl::StatusOr<std::shared_ptr<Process>> worker =
      Spawn(request, /*cold=*/false, &ready);
  if (!worker.ok()) {
    return absl::Status(worker.status().code(),
                        absl::StrCat("function '", request.name(),
                                     "': ", worker.status().message()));
  }
  // `worker` outlives the lock: one that is not kept is killed (by its
  // destructor) after the lock is released.
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    return absl::UnavailableError("swiftd is shutting down");
  }
  if (auto it = functions_.find(request.name());
      it != functions_.end() && it->second.restoring) {
    // Restore() took the name while this worker started.
    return BeingRestored(request.name());
  }
  if (options_.store != nullptr) {
    // Under the lock, so that a racing Unregister() cannot delete the file
    // before it is written (and the function come back after a restart).
    if (absl::Status saved = options_.store->Save(request); !saved.ok()) {
      LOG(ERROR) << "Function '" << request.name()
                 << "' not registered: cannot store it: " << saved;
      return absl::Status(
          saved.code(),
          absl::StrCat("function '", request.name(),
                       "' was not registered: swiftd could not store it in ",
                       options_.store->directory(),
                       " to restore it after a restart: ", saved.message()));
    }
  }
  LOG(INFO) << "Function '" << request.name() << "' ready: worker pid "
            << (*worker)->pid() << ", started in " << ready.startup_us()
            << " us with " << ready.ready_connections() << " connection(s)";
  Function& function = functions_[request.name()];
  function.spec = request;
  function.worker = *std::move(worker);
  v1::RegisterFunctionResponse response;
  response.set_worker_pid(function.worker->pid());
  response.set_worker_startup_us(ready.startup_us());
  return response;
}

absl::StatusOr<v1::InvokeResponse> WorkerManager::Invoke(
    const v1::InvokeRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  v1::RegisterFunctionRequest spec;
  std::shared_ptr<Process> worker;
  worker::v1::InvokeRequest call;
  {
    absl::MutexLock lock(&mu_);
    auto it = functions_.find(request.function());
    if (it == functions_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no function '", request.function(), "' is registered"));
    }
    if (it->second.restoring && request.mode() != v1::InvokeRequest::COLD) {
      return StillRestoring(request.function());
    }
    spec = it->second.spec;
    worker = it->second.worker;
    ++it->second.invocations;
    call.set_id(next_id_++);
  }
  call.set_payload(request.payload());
  call.set_timeout_ms(request.timeout_ms() == 0 ? 10000 : request.timeout_ms());
  const absl::Duration timeout = absl::Milliseconds(call.timeout_ms());
  absl::StatusOr<worker::v1::InvokeReply> reply;
  if (request.mode() == v1::InvokeRequest::COLD) {
    call.set_mode(worker::v1::COLD);
    worker::v1::WorkerReady ready;
    absl::StatusOr<std::shared_ptr<Process>> cold =
        Spawn(spec, /*cold=*/true, &ready);
    reply = cold.ok() ? (*cold)->Call(call, timeout) : cold.status();
  } else if (worker == nullptr || worker->exited()) {
    reply = absl::UnavailableError(
        absl::StrCat("the worker of function '", request.function(),
                     "' has exited; register the function again"));
  } else {
    call.set_mode(request.mode() == v1::InvokeRequest::WARM ? worker::v1::WARM
                                                            : worker::v1::FORK);
    reply = worker->Call(call, timeout);
  }
  absl::StatusOr<v1::InvokeResponse> response =
      reply.ok() ? ToInvokeResponse(*reply, request.function())
                 : absl::StatusOr<v1::InvokeResponse>(absl::Status(
                       reply.status().code(),
                       absl::StrCat("function '", request.function(),
                                    "': ", reply.status().message())));
  if (!response.ok()) {
    absl::MutexLock lock(&mu_);
    auto it = functions_.find(request.function());
    if (it != functions_.end()) {
      ++it->second.failures;
    }
    return response;
  }
  response->set_total_us(
      static_cast<uint64_t>(std::chrono::duration<double, std::micro>(
                                std::chrono::steady_clock::now() - start)
                                .count()));
  return response;
}

absl::Status WorkerManager::AttachChannel(const std::string& function,
                                          const SeqpacketSocket& channel,
                                          const std::string& client_name,
                                          int64_t client_pid) {
  std::shared_ptr<Process> worker;
  {
    absl::MutexLock lock(&mu_);
    auto it = functions_.find(function);
    if (it == functions_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no function '", function, "' is registered"));
    }
    if (it->second.restoring) {
      return StillRestoring(function);
    }
    worker = it->second.worker;
  }
  if (worker == nullptr || worker->exited()) {
    return absl::UnavailableError(
        absl::StrCat("the worker of function '", function,
                     "' has exited; register the function again"));
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
  std::shared_ptr<Process> worker;
  std::shared_ptr<Process> starting;
  bool restoring = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = functions_.find(name);
    if (it == functions_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no function '", name, "' is registered"));
    }
    SWIFT_RETURN_IF_ERROR(authorize(it->second.spec));
    if (options_.store != nullptr) {
      // First, so that a function that stays in the store stays registered.
      if (absl::Status removed = options_.store->Remove(name); !removed.ok()) {
        return absl::Status(
            removed.code(),
            absl::StrCat("function '", name,
                         "' is still registered: swiftd could not delete it "
                         "from ",
                         options_.store->directory(), ": ", removed.message()));
      }
    }
    worker = std::move(it->second.worker);
    starting = std::move(it->second.starting);
    restoring = it->second.restoring;
    // Its restore thread, if any, sees it gone (mu_'s condition) and ends.
    functions_.erase(it);
  }
  v1::UnregisterFunctionResponse response;
  if (worker != nullptr) {
    response.set_worker_pid(worker->pid());
    worker->Stop(grace);
  }
  if (starting != nullptr) {
    // Half-started for a restore: nothing runs in it yet.
    response.set_worker_pid(starting->pid());
    starting->Kill();
  }
  LOG(INFO) << "Function '" << name << "' unregistered"
            << (restoring ? " while being restored" : "")
            << (response.worker_pid() != 0
                    ? absl::StrCat(" (worker pid ", response.worker_pid(),
                                   " stopped)")
                    : std::string(" (no worker ran)"));
  return response;
}

void WorkerManager::RunAsync(std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    // Still run it (it fails fast: no workers), so its RPC is answered.
    async_.emplace_back(std::move(work));
    return;
  }
  queue_.push_back(std::move(work));
  if (idle_threads_ == 0 && static_cast<int>(async_.size()) < kAsyncThreads) {
    async_.emplace_back([this] { AsyncLoop(); });
  }
}

void WorkerManager::AsyncLoop() {
  while (true) {
    std::function<void()> work;
    {
      absl::MutexLock lock(&mu_);
      ++idle_threads_;
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shut_down_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      --idle_threads_;
      if (queue_.empty()) {
        return;  // Shut down and drained.
      }
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

void WorkerManager::Restore(
    std::vector<v1::RegisterFunctionRequest> functions) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    return;
  }
  for (v1::RegisterFunctionRequest& spec : functions) {
    if (functions_.contains(spec.name())) {
      continue;
    }
    const std::string name = spec.name();
    const uint64_t restore_id = next_restore_id_++;
    Function& function = functions_[name];
    function.spec = std::move(spec);
    function.restoring = true;
    function.restore_id = restore_id;
    LOG(INFO) << "Restoring function '" << name << "' ("
              << function.spec.library_path() << ", uid " << function.spec.uid()
              << ")";
    restorers_.emplace_back(
        [this, name, restore_id] { RestoreLoop(name, restore_id); });
  }
}

WorkerManager::Function* WorkerManager::Restoring(const std::string& name,
                                                  uint64_t restore_id) {
  if (shut_down_) {
    return nullptr;
  }
  auto it = functions_.find(name);
  if (it == functions_.end() || !it->second.restoring ||
      it->second.restore_id != restore_id) {
    return nullptr;
  }
  return &it->second;
}

void WorkerManager::RestoreLoop(const std::string& name, uint64_t restore_id) {
  absl::Duration backoff = options_.restore_backoff;
  while (true) {
    v1::RegisterFunctionRequest spec;
    {
      absl::MutexLock lock(&mu_);
      Function* function = Restoring(name, restore_id);
      if (function == nullptr) {
        return;
      }
      spec = function->spec;
      ++function->attempts;
    }
    worker::v1::WorkerReady ready;
    absl::Status readable = LibraryReadable(spec.library_path());
    absl::StatusOr<std::shared_ptr<Process>> worker =
        !readable.ok()
            ? absl::StatusOr<std::shared_ptr<Process>>(readable)
            : Spawn(spec, /*cold=*/false, &ready,
                    [&](std::shared_ptr<Process> process) {
                      absl::MutexLock lock(&mu_);
                      if (Function* function = Restoring(name, restore_id)) {
                        function->starting = std::move(process);
                      } else {
                        process->Kill();  // Unregistered or shutting down.
                      }
                    });
    // `worker` and `started` outlive the lock: a process that is not kept
    // is killed (by its destructor) after the lock is released.
    std::shared_ptr<Process> started;
    absl::MutexLock lock(&mu_);
    Function* function = Restoring(name, restore_id);
    if (function == nullptr) {
      return;
    }
    started = std::move(function->starting);
    if (worker.ok()) {
      function->worker = *worker;
      function->restoring = false;
      function->restore_error = absl::OkStatus();
      LOG(INFO) << "Function '" << name << "' restored: worker pid "
                << function->worker->pid() << ", started in "
                << ready.startup_us() << " us with "
                << ready.ready_connections() << " connection(s), attempt "
                << function->attempts;
      return;
    }
    function->restore_error = worker.status();
    function->next_attempt = absl::Now() + backoff;
    LOG(WARNING) << "Cannot restore function '" << name << "' (attempt "
                 << function->attempts << "): " << worker.status()
                 << "; retrying in " << absl::FormatDuration(backoff);
    auto stop = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return Restoring(name, restore_id) == nullptr;
    };
    mu_.AwaitWithTimeout(absl::Condition(&stop), backoff);
    backoff = std::min(backoff * 2, options_.restore_backoff_max);
  }
}

std::string WorkerManager::RestoreState(const Function& function) {
  if (function.restore_error.ok()) {
    return "restoring";
  }
  const absl::Duration wait = function.next_attempt - absl::Now();
  if (wait <= absl::ZeroDuration()) {
    return absl::StrCat("restoring (attempt ", function.attempts + 1,
                        "; the last failed: ", function.restore_error.message(),
                        ")");
  }
  return absl::StrCat(
      "failed: ", function.restore_error.message(), ", retrying in ",
      absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))), "s");
}

std::vector<v1::WorkerInfo> WorkerManager::List() const {
  std::vector<v1::WorkerInfo> workers;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, function] : functions_) {
    v1::WorkerInfo info;
    info.set_function(name);
    info.set_library_path(function.spec.library_path());
    info.set_worker_pid(function.worker ? function.worker->pid() : 0);
    info.set_state(function.restoring           ? RestoreState(function)
                   : function.worker == nullptr ? "starting"
                   : function.worker->exited()  ? "exited"
                                                : "ready");
    const worker::v1::WorkerStats direct = function.worker != nullptr
                                               ? function.worker->stats()
                                               : worker::v1::WorkerStats();
    info.set_invocations(function.invocations + direct.channel_invocations());
    info.set_failures(function.failures + direct.channel_failures());
    *info.mutable_peers() = function.spec.peers();
    info.set_max_instances(
        function.spec.max_instances() == 0 ? 8 : function.spec.max_instances());
    info.set_uid(function.spec.uid());
    info.set_memory_limit_bytes(function.spec.memory_limit_bytes());
    if (function.worker != nullptr && !function.worker->exited()) {
      const worker::v1::WorkerStats stats = function.worker->stats();
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

void WorkerManager::Shutdown() {
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<Process>> workers;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      return;
    }
    shut_down_ = true;
    for (auto& [name, function] : functions_) {
      for (const std::shared_ptr<Process>& process :
           {function.worker, function.starting}) {
        if (process != nullptr) {
          workers.push_back(process);
          process->Kill();
        }
      }
    }
  }
  // Restore threads see shut_down_ and end (one starting a worker once
  // Spawn() returns, which the kill above hastens).
  {
    absl::MutexLock lock(&mu_);
    threads.swap(restorers_);
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  threads.clear();
  // Work submitted during shutdown adds threads: join until none is left.
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      threads.swap(async_);
    }
    if (threads.empty()) {
      break;
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    threads.clear();
  }
  absl::MutexLock lock(&mu_);
  functions_.clear();
}

}  // namespace swift
