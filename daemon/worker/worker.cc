// Worker implementation; see worker.h.
#include "daemon/worker/worker.h"

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/worker/fork/fork_support.h"
#include "daemon/worker/fork/prefault.h"
#include "common/status_macros.h"
#include "daemon/worker/instance_runtime.h"

namespace swift {
namespace {

worker::v1::InvokeReply ErrorReply(uint64_t id, const absl::Status& status) {
  worker::v1::InvokeReply reply;
  reply.set_id(id);
  reply.set_code(static_cast<int>(status.code()));
  reply.set_message(std::string(status.message()));
  return reply;
}

// How long the worker waits after a request before forking spares.
constexpr absl::Duration kSpareQuietPeriod = absl::Milliseconds(20);
// How long after a failed spare fork the worker tries again.
constexpr absl::Duration kSpareRetryInterval = absl::Milliseconds(200);

std::string DescribeExit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(wait_status), " (",
                        strsignal(WTERMSIG(wait_status)), ")");
  }
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  }
  return "ended";
}

}  // namespace

Worker::Worker(Options options, SeqpacketSocket control)
    : options_(std::move(options)), control_(std::move(control)) {}

Worker::~Worker() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (maintainer_.joinable()) {
    maintainer_.join();
  }
  for (auto& instance : instances_) {
    if (instance->pid > 0) {
      kill(instance->pid, SIGKILL);
      waitpid(instance->pid, nullptr, 0);
    }
  }
  instances_.clear();
  {
    absl::MutexLock lock(&mu_);
    prepared_.clear();
    retired_.clear();
  }
  session_.reset();
  // The library stays loaded: its code may still be referenced until exit.
}

absl::StatusOr<Worker::ConnectionSet> Worker::ConnectSet() {
  ConnectionSet set;
  for (const auto& [host, service] : options_.targets) {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        session_->Connect(host, service, absl::Seconds(10));
    if (!connection.ok()) {
      return absl::Status(connection.status().code(),
                          absl::StrCat("connecting to ", service, " on ", host,
                                       ": ", connection.status().message()));
    }
    // Verified here, off the request path: a child would otherwise read
    // /proc/self/maps (milliseconds under emulation) on its first post.
    const uint32_t lkey = (*connection)->mr()->lkey;
    bool verified = false;
    {
      absl::MutexLock lock(&mu_);
      verified = shared_lkeys_.contains(lkey);
    }
    if (!verified) {
      if (absl::Status shared = CheckSharedMemory((*connection)->buffer(),
                                                  (*connection)->buffer_size());
          !shared.ok()) {
        return shared;
      }
      absl::MutexLock lock(&mu_);
      shared_lkeys_.insert(lkey);
    }
    set.push_back(*std::move(connection));
  }
  return set;
}

absl::Status Worker::Start() {
  worker_pid_ = getpid();
  if (!options_.cold) {
    // Fork mode relies on the kernel copying pinned pages at fork.
    if (absl::Status fork_ok = CheckCopyOnForkKernel(); !fork_ok.ok()) {
      return fork_ok;
    }
  }
  library_ = dlopen(options_.function_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library_ == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot load function library ",
                                            options_.function_path, ": ",
                                            dlerror()));
  }
  function_ = reinterpret_cast<swift_function_fn>(
      dlsym(library_, SWIFT_FUNCTION_SYMBOL));
  if (function_ == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(options_.function_path, " exports no '",
                     SWIFT_FUNCTION_SYMBOL, "' (see swift/function.h)"));
  }
  SessionOptions session_options;
  session_options.socket_path = options_.socket_path;
  session_options.client_name = absl::StrCat("swift_worker-", getpid());
  // One QP per target per set, plus the refills.
  const int qps = static_cast<int>(options_.targets.size()) *
                  (options_.cold ? 1 : options_.prepared + 1);
  session_options.pool_low = std::max(1, qps);
  session_options.pool_high = std::max(2, 2 * qps);
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Create(session_options);
  if (!session.ok()) {
    return session.status();
  }
  session_ = *std::move(session);
  const int sets = options_.cold ? 1 : options_.prepared;
  for (int i = 0; i < sets; ++i) {
    absl::StatusOr<ConnectionSet> set = ConnectSet();
    if (!set.ok()) {
      return set.status();
    }
    absl::MutexLock lock(&mu_);
    prepared_.push_back(*std::move(set));
  }
  // One device: its doorbell is detected once, not in every instance.
  absl::StatusOr<ProviderDoorbell> doorbell = [this]() {
    absl::MutexLock lock(&mu_);
    return prepared_.front().empty()
               ? absl::StatusOr<ProviderDoorbell>(ProviderDoorbell())
               : DetectDoorbell(prepared_.front().front()->qp()->context);
  }();
  if (!doorbell.ok()) {
    return doorbell.status();
  }
  doorbell_ = *doorbell;
  if (!options_.cold) {
    maintainer_ = std::thread([this] { MaintainLoop(); });
  }
  return absl::OkStatus();
}

void Worker::MaintainLoop() {
  while (true) {
    std::vector<ConnectionSet> retired;
    bool refill = false;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !retired_.empty() ||
               static_cast<int>(prepared_.size()) < options_.prepared;
      };
      // Also wakes periodically to retry a failed refill.
      mu_.AwaitWithTimeout(absl::Condition(&has_work), absl::Seconds(1));
      if (stopping_) {
        return;
      }
      retired.swap(retired_);
      refill = static_cast<int>(prepared_.size()) < options_.prepared;
    }
    // Closing recycles each QP (back to the pool, its peer told).
    retired.clear();
    if (refill) {
      absl::StatusOr<ConnectionSet> set = ConnectSet();
      if (set.ok()) {
        absl::MutexLock lock(&mu_);
        prepared_.push_back(*std::move(set));
      }
    }
  }
}

absl::StatusOr<Worker::ConnectionSet> Worker::TakePrepared(
    bool connect_if_none) {
  {
    absl::MutexLock lock(&mu_);
    if (!prepared_.empty()) {
      ConnectionSet set = std::move(prepared_.front());
      prepared_.pop_front();
      return set;
    }
  }
  if (!connect_if_none) {
    return absl::UnavailableError("no prepared connection set");
  }
  return ConnectSet();
}

void Worker::SendUp(const worker::v1::WorkerUp& up) {
  // swiftd gone: the loop notices on its next receive.
  (void)control_.Send(up.SerializeAsString());
}

void Worker::Reply(uint64_t channel_id, worker::v1::InvokeReply reply) {
  if (channel_id != kSwiftd) {
    ++channel_invocations_;
    channel_failures_ += reply.code() != 0 ? 1 : 0;
    auto it = channels_.find(channel_id);
    if (it != channels_.end()) {
      // A client gone meanwhile: its channel closes on the next poll.
      (void)it->second->socket.Send(reply.SerializeAsString());
    }
    return;
  }
  worker::v1::WorkerUp up;
  *up.mutable_reply() = std::move(reply);
  *up.mutable_reply()->mutable_stats() = reported_ = Stats();
  SendUp(up);
}

worker::v1::WorkerStats Worker::Stats() {
  worker::v1::WorkerStats stats;
  for (const auto& instance : instances_) {
    if (!instance->live()) {
      continue;
    }
    stats.set_instances(stats.instances() + 1);
    stats.set_busy(stats.busy() + (instance->busy ? 1 : 0));
    stats.set_spares(stats.spares() +
                     (instance->idle() && instance->fresh ? 1 : 0));
  }
  {
    absl::MutexLock lock(&mu_);
    stats.set_prepared_sets(static_cast<uint32_t>(prepared_.size()));
  }
  stats.set_forks(forks_);
  stats.set_spare_hits(spare_hits_);
  stats.set_channel_invocations(channel_invocations_);
  stats.set_channel_failures(channel_failures_);
  stats.set_channels(static_cast<uint32_t>(channels_.size()));
  return stats;
}

void Worker::ReportStatsIfChanged() {
  worker::v1::WorkerStats stats = Stats();
  if (stats.SerializeAsString() != reported_.SerializeAsString()) {
    worker::v1::WorkerUp up;
    *up.mutable_stats() = reported_ = std::move(stats);
    SendUp(up);
  }
}

void Worker::RunChild(SeqpacketSocket socket, const ConnectionSet& connections,
                      absl::flat_hash_set<uint32_t> shared_lkeys,
                      const worker::v1::InvokeRequest* first) {
  // An instance outlives no worker: its QPs are the worker's to recycle.
  // (Checked after arming too: the worker may have died before.)
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != worker_pid_) {
    _exit(0);
  }
  std::vector<Connection*> views;
  for (const auto& connection : connections) {
    views.push_back(connection.get());
  }
  // The child owns these QPs now; it never touches the worker's session
  // (its locks may have been held by another thread at fork) and leaves
  // with _exit(), so no destructor recycles what the worker will recycle.
  absl::StatusOr<std::unique_ptr<InstanceRuntime>> runtime =
      InstanceRuntime::Create(function_, views, doorbell_,
                              std::move(shared_lkeys));
  worker::v1::InvokeRequest request;
  if (first != nullptr) {
    request = *first;
  } else {
    // A spare: everything is built; take the first run's page faults now
    // (best effort: without it the invocation only runs slower), then wait
    // for the invocation.
    (void)PrefaultForkedChild(getppid());
    absl::StatusOr<SeqpacketSocket::Message> next = socket.Receive();
    if (!next.ok() || !request.ParseFromString(next->data)) {
      _exit(0);
    }
  }
  while (true) {
    worker::v1::InvokeReply reply =
        runtime.ok() ? (*runtime)->Run(request)
                     : ErrorReply(request.id(), runtime.status());
    reply.set_instance_pid(getpid());
    if (!socket.Send(reply.SerializeAsString()).ok()) {
      _exit(0);
    }
    absl::StatusOr<SeqpacketSocket::Message> next = socket.Receive();
    if (!next.ok() || !request.ParseFromString(next->data)) {
      _exit(0);  // The worker retired this instance.
    }
  }
}

absl::StatusOr<Worker::Instance*> Worker::StartInstance(
    const worker::v1::InvokeRequest* first) {
  if (LiveInstances() >= options_.max_instances) {
    // Make room by retiring the longest-idle instance that has run, if any.
    Instance* oldest = nullptr;
    for (auto& instance : instances_) {
      if (instance->idle() && !instance->fresh &&
          (oldest == nullptr || instance->idle_since < oldest->idle_since)) {
        oldest = instance.get();
      }
    }
    if (oldest != nullptr) {
      // Killed now, reaped when its socket reports the end (the loop), so
      // this request does not wait for a process to die.
      kill(oldest->pid, SIGKILL);
      oldest->retiring = true;
    }
  }
  if (LiveInstances() >= options_.max_instances) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the function already runs ", LiveInstances(),
                     " instances (its max_instances); retry later"));
  }
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> pair =
      SeqpacketSocket::Pair();
  if (!pair.ok()) {
    return pair.status();
  }
  // A spare never waits for a broker round trip on this loop: it takes a
  // set the maintenance thread prepared, or waits for one.
  absl::StatusOr<ConnectionSet> set =
      TakePrepared(/*connect_if_none=*/first != nullptr);
  if (!set.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the worker has no connected QPs to give an instance: ",
                     set.status().message()));
  }
  absl::flat_hash_set<uint32_t> shared_lkeys;
  {
    absl::MutexLock lock(&mu_);
    shared_lkeys = shared_lkeys_;
  }
  auto instance = std::make_unique<Instance>();
  instance->connections = *std::move(set);
  const pid_t pid = fork();
  if (pid < 0) {
    absl::MutexLock lock(&mu_);
    prepared_.push_front(std::move(instance->connections));
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    // Only the child's own socket stays open in the child, so that swiftd
    // and the worker see EOF when the process they talk to dies.
    ::close(control_.fd());
    for (const auto& other : instances_) {
      ::close(other->socket->fd());
    }
    for (const auto& [id, channel] : channels_) {
      ::close(channel->socket.fd());
    }
    pair->first = SeqpacketSocket(UniqueFd());
    RunChild(std::move(pair->second), instance->connections,
             std::move(shared_lkeys), first);
  }
  ++forks_;
  instance->pid = pid;
  instance->socket = std::make_unique<SeqpacketSocket>(std::move(pair->first));
  instance->idle_since = absl::Now();
  if (first != nullptr) {
    MarkRunning(*instance, *first, worker::v1::FORK, /*spare=*/false);
  }
  instances_.push_back(std::move(instance));
  return instances_.back().get();
}

void Worker::MarkRunning(Instance& instance,
                         const worker::v1::InvokeRequest& request,
                         worker::v1::InvokeMode mode, bool spare) {
  instance.ran_as_spare = spare;
  instance.busy = true;
  instance.fresh = false;
  instance.request_id = request.id();
  instance.mode = mode;
  instance.started = absl::Now();
  instance.deadline =
      instance.started + absl::Milliseconds(std::max(1u, request.timeout_ms()));
}

absl::Status Worker::Dispatch(Instance& instance,
                              const worker::v1::InvokeRequest& request,
                              worker::v1::InvokeMode mode) {
  const bool spare = instance.fresh;
  SWIFT_RETURN_IF_ERROR(instance.socket->Send(request.SerializeAsString()));
  MarkRunning(instance, request, mode, spare);
  spare_hits_ += spare ? 1 : 0;
  return absl::OkStatus();
}

Worker::Instance* Worker::FindIdle(bool fresh) {
  for (auto& instance : instances_) {
    if (instance->idle() && instance->fresh == fresh) {
      return instance.get();
    }
  }
  return nullptr;
}

int Worker::MissingSpares() const {
  if (options_.cold) {
    return 0;  // A cold worker runs its one invocation itself.
  }
  int spares = 0;
  for (const auto& instance : instances_) {
    if (instance->busy) {
      // Not while an invocation runs: a fork stalls this loop (the reply
      // would wait) and competes with the instance for the CPU.
      return 0;
    }
    spares += instance->idle() && instance->fresh ? 1 : 0;
  }
  return std::max(0, options_.spares - spares);
}

absl::Time Worker::NextSpareFork() const {
  if (MissingSpares() == 0) {
    return absl::InfiniteFuture();
  }
  // Not during a burst: requests arriving back to back would each wait
  // behind a fork and its warm-up; they fork on demand until it ends.
  return std::max(last_activity_ + kSpareQuietPeriod, spare_retry_at_);
}

void Worker::TopUpSpares() {
  if (absl::Now() < NextSpareFork()) {
    return;
  }
  for (int missing = MissingSpares(); missing > 0; --missing) {
    if (!StartInstance(nullptr).ok()) {
      // max_instances busy, or no prepared connections yet: FORK requests
      // fork on demand meanwhile.
      spare_retry_at_ = absl::Now() + kSpareRetryInterval;
      return;
    }
  }
}

void Worker::HandleRequest(const worker::v1::InvokeRequest& request,
                           uint64_t channel_id) {
  if (channel_id != kSwiftd && request.mode() == worker::v1::COLD) {
    Reply(channel_id,
          ErrorReply(request.id(),
                     absl::InvalidArgumentError(
                         "cold invocations go through swiftd (they start a "
                         "new worker), not a direct channel")));
    return;
  }
  if (options_.cold) {
    std::vector<Connection*> views;
    {
      absl::MutexLock lock(&mu_);
      if (prepared_.empty()) {
        Reply(channel_id,
              ErrorReply(request.id(),
                         absl::InternalError(
                             "the cold worker has no connected QPs left")));
        return;
      }
      for (const auto& connection : prepared_.front()) {
        views.push_back(connection.get());
      }
    }
    absl::StatusOr<std::unique_ptr<InstanceRuntime>> runtime =
        InstanceRuntime::Create(function_, views, doorbell_);
    worker::v1::InvokeReply reply =
        runtime.ok() ? (*runtime)->Run(request)
                     : ErrorReply(request.id(), runtime.status());
    reply.set_instance_pid(getpid());
    reply.set_served_by(worker::v1::COLD);
    Reply(channel_id, std::move(reply));
    return;
  }
  // WARM: an instance that has run; FORK (and WARM without one): a spare,
  // else a child forked now.
  Instance* instance = nullptr;
  if (request.mode() == worker::v1::WARM) {
    if (Instance* idle = FindIdle(/*fresh=*/false);
        idle != nullptr && Dispatch(*idle, request, worker::v1::WARM).ok()) {
      instance = idle;
    }
  }
  if (instance == nullptr) {
    if (Instance* spare = FindIdle(/*fresh=*/true);
        spare != nullptr && Dispatch(*spare, request, worker::v1::FORK).ok()) {
      instance = spare;
    }
  }
  if (instance == nullptr) {
    absl::StatusOr<Instance*> forked = StartInstance(&request);
    if (!forked.ok()) {
      Reply(channel_id, ErrorReply(request.id(), forked.status()));
      return;
    }
    instance = *forked;
  }
  instance->channel_id = channel_id;
}

void Worker::Reap(Instance& instance, const absl::Status& reason) {
  int wait_status = 0;
  if (instance.pid > 0) {
    kill(instance.pid, SIGKILL);
    waitpid(instance.pid, &wait_status, 0);
  }
  if (instance.busy) {
    absl::Status status = reason;
    if (absl::IsInternal(reason)) {
      status = absl::InternalError(
          absl::StrCat("the function's instance (pid ", instance.pid, ") ",
                       DescribeExit(wait_status), " during the invocation"));
    }
    worker::v1::InvokeReply reply = ErrorReply(instance.request_id, status);
    reply.set_instance_pid(instance.pid);
    reply.set_served_by(instance.mode);
    Reply(instance.channel_id, std::move(reply));
  }
  instance.pid = -1;
  // The child is gone: its QPs are the worker's again. Closing recycles
  // them (or destroys those left in error), on the maintenance thread.
  absl::MutexLock lock(&mu_);
  retired_.push_back(std::move(instance.connections));
}

int Worker::LiveInstances() const {
  int live = 0;
  for (const auto& instance : instances_) {
    live += instance->live() ? 1 : 0;
  }
  return live;
}

void Worker::HandleInstanceReadable(Instance& instance) {
  if (instance.retiring) {
    Reap(instance, absl::OkStatus());
    return;
  }
  absl::StatusOr<SeqpacketSocket::Message> message = instance.socket->Receive();
  worker::v1::InvokeReply reply;
  if (!message.ok() || !reply.ParseFromString(message->data)) {
    Reap(instance, absl::InternalError("crashed"));
    return;
  }
  reply.set_worker_us(
      absl::ToInt64Microseconds(absl::Now() - instance.started));
  reply.set_served_by(instance.mode);
  reply.set_spare(instance.ran_as_spare);
  instance.busy = false;
  last_activity_ = absl::Now();
  instance.idle_since = absl::Now();
  Reply(instance.channel_id, std::move(reply));
}

void Worker::OpenChannel(const worker::v1::OpenChannel& open,
                         std::vector<UniqueFd> fds) {
  if (fds.size() != 1 || options_.cold) {
    return;  // Dropped: the client sees its channel close.
  }
  channels_[next_channel_id_++] =
      std::make_unique<Channel>(Channel{SeqpacketSocket(std::move(fds[0])),
                                        open.client_name(), open.client_pid()});
}

void Worker::HandleChannelReadable(uint64_t channel_id) {
  auto it = channels_.find(channel_id);
  if (it == channels_.end()) {
    return;
  }
  absl::StatusOr<SeqpacketSocket::Message> message =
      it->second->socket.Receive();
  if (!message.ok()) {
    // The client closed its channel: a reply still due is dropped.
    channels_.erase(it);
    return;
  }
  last_activity_ = absl::Now();
  worker::v1::InvokeRequest request;
  if (!request.ParseFromString(message->data)) {
    Reply(channel_id,
          ErrorReply(0, absl::InvalidArgumentError("malformed request")));
    return;
  }
  HandleRequest(request, channel_id);
}

void Worker::ExpireInstances() {
  const absl::Time now = absl::Now();
  for (auto& instance : instances_) {
    if (instance->pid <= 0) {
      continue;
    }
    if (instance->busy && now >= instance->deadline) {
      Reap(*instance, absl::DeadlineExceededError(absl::StrCat(
                          "the function did not return within its timeout; "
                          "instance pid ",
                          instance->pid, " was killed")));
    } else if (!instance->busy && !instance->fresh &&
               now - instance->idle_since >= options_.idle_timeout) {
      // (Spares stay: they are the worker's readiness, like prepared_.)
      Reap(*instance, absl::OkStatus());
    }
  }
  instances_.erase(std::remove_if(instances_.begin(), instances_.end(),
                                  [](const auto& i) { return i->pid <= 0; }),
                   instances_.end());
}

absl::Status Worker::Run() {
  const absl::Time start = absl::Now();
  absl::Status started = Start();
  worker::v1::WorkerUp up;
  if (!started.ok()) {
    *up.mutable_failed() = ErrorReply(0, started);
    SendUp(up);
    return started;
  }
  up.mutable_ready()->set_pid(getpid());
  {
    absl::MutexLock lock(&mu_);
    up.mutable_ready()->set_ready_connections(
        static_cast<uint32_t>(prepared_.size() * options_.targets.size()));
  }
  up.mutable_ready()->set_startup_us(
      absl::ToInt64Microseconds(absl::Now() - start));
  SendUp(up);

  while (true) {
    std::vector<pollfd> fds;
    fds.push_back({control_.fd(), POLLIN, 0});
    for (const auto& instance : instances_) {
      fds.push_back({instance->socket->fd(), POLLIN, 0});
    }
    std::vector<uint64_t> polled_channels;
    for (const auto& [id, channel] : channels_) {
      fds.push_back({channel->socket.fd(), POLLIN, 0});
      polled_channels.push_back(id);
    }
    // Wake for the next deadline, idle expiry or spare fork, at least every
    // second.
    const absl::Time now = absl::Now();
    absl::Time wake = NextSpareFork();
    for (const auto& instance : instances_) {
      if (!instance->busy && instance->fresh) {
        continue;  // Spares do not expire.
      }
      wake = std::min(wake, instance->busy
                                ? instance->deadline
                                : instance->idle_since + options_.idle_timeout);
    }
    const int timeout_ms = static_cast<int>(std::max<int64_t>(
        0,
        absl::ToInt64Milliseconds(std::min(wake - now, absl::Seconds(1))) + 1));
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", strerror(errno)));
    }
    const size_t polled_instances = instances_.size();
    auto readable = [&](size_t i) {
      return (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    };
    for (size_t i = 0; i < polled_instances; ++i) {
      if (readable(i + 1) && instances_[i]->pid > 0) {
        HandleInstanceReadable(*instances_[i]);
      }
    }
    for (size_t i = 0; i < polled_channels.size(); ++i) {
      if (readable(1 + polled_instances + i)) {
        HandleChannelReadable(polled_channels[i]);
      }
    }
    if (readable(0)) {
      absl::StatusOr<SeqpacketSocket::Message> message = control_.Receive();
      worker::v1::WorkerDown down;
      if (!message.ok()) {
        return absl::OkStatus();  // swiftd closed us: retire.
      }
      last_activity_ = absl::Now();
      if (!down.ParseFromString(message->data)) {
        Reply(kSwiftd,
              ErrorReply(0, absl::InvalidArgumentError("malformed request")));
      } else if (down.has_open_channel()) {
        OpenChannel(down.open_channel(), std::move(message->fds));
      } else {
        HandleRequest(down.invoke(), kSwiftd);
        if (options_.cold) {
          return absl::OkStatus();
        }
      }
    }
    ExpireInstances();
    // Off the request path: fork the spares used since.
    TopUpSpares();
    ReportStatsIfChanged();
  }
}

}  // namespace swift
