// Worker implementation; see worker.h.
#include "daemon/worker/worker.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/worker/cold_child.h"
#include "daemon/worker/fork/fork_support.h"
#include "daemon/worker/instance_runtime.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

// How long after a cold reply the template connects the next set ahead:
// the reply's way back (swiftd, the caller) goes first.
constexpr absl::Duration kColdRefillDelay = absl::Milliseconds(20);

}  // namespace

Worker::Worker(Options options, SeqpacketSocket control)
    : options_(std::move(options)), swiftd_(std::move(control)) {}

absl::Status Worker::StartTemplate() {
  if (absl::Status fork_ok = CheckCopyOnForkKernel(); !fork_ok.ok()) {
    return fork_ok;
  }
  SessionOptions session_options;
  session_options.socket_path = options_.socket_path;
  session_options.client_name = absl::StrCat("swift_worker-template-", getpid());
  // Cold invocations of one tenant at a time are few (its quota).
  session_options.pool_low = 2;
  session_options.pool_high = 4;
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Create(session_options);
  if (!session.ok()) {
    return session.status();
  }
  session_ = *std::move(session);
  cold_retired_ = std::make_unique<ConnectionSetPool>(
      session_.get(), ConnectionSetPool::Targets(), 0);
  cold_retired_->StartMaintaining();
  const pid_t self = getpid();
  cold_ = std::make_unique<ColdInstances>(
      [this](const worker::v1::InvokeRequest& request) {
        return ConnectCold(request);
      },
      [this, self](SeqpacketSocket socket, const ConnectionSet& set,
                   const worker::v1::InvokeRequest& request) {
        ServeColdInstance(doorbell_, self, std::move(socket), set, cold_lkeys_,
                          request);
      },
      [this](uint64_t route, worker::v1::InvokeReply reply) {
        Reply(route, std::move(reply));
        if (!cold_to_refill_.empty()) {
          cold_refill_at_ = absl::Now() + kColdRefillDelay;
        }
      },
      [this](ConnectionSet set) { cold_retired_->Retire(std::move(set)); },
      [this] { return ForeignFds(); });
  return absl::OkStatus();
}

absl::StatusOr<ConnectionSet> Worker::ConnectCold(
    const worker::v1::InvokeRequest& request) {
  const auto& names = request.cold_function().targets();
  const std::string key = absl::StrJoin(names, ",");
  std::unique_ptr<ConnectionSetPool>& pool = cold_pools_[key];
  if (pool == nullptr) {
    ConnectionSetPool::Targets targets;
    for (const std::string& name : names) {
      const size_t slash = name.rfind('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) {
        cold_pools_.erase(key);
        return absl::InvalidArgumentError(
            absl::StrCat("a peer is host/service, not '", name, "'"));
      }
      targets.emplace_back(name.substr(0, slash), name.substr(slash + 1));
    }
    // After this first one (connected now), RefillCold() connects one
    // set for these peers ahead, off the next invocation's path: a child
    // still gets a connection nobody used before it.
    pool = std::make_unique<ConnectionSetPool>(session_.get(),
                                               std::move(targets), 1);
  }
  absl::StatusOr<ConnectionSet> set = pool->Take(/*connect_if_none=*/true);
  if (!set.ok()) {
    return set.status();
  }
  cold_to_refill_.insert(key);
  if (!doorbell_detected_ && !set->empty()) {
    absl::StatusOr<ProviderDoorbell> doorbell =
        DetectDoorbell(set->front()->qp()->context);
    if (!doorbell.ok()) {
      cold_retired_->Retire(*std::move(set));
      return doorbell.status();
    }
    doorbell_ = *std::move(doorbell);
    doorbell_detected_ = true;
  }
  // Read by the child without a lock (it must take none after fork).
  for (uint32_t lkey : pool->SharedLkeys()) {
    cold_lkeys_.insert(lkey);
  }
  return set;
}

absl::Status Worker::Start() {
  if (options_.template_mode) {
    return StartTemplate();
  }
  if (!options_.cold) {
    // Fork mode relies on the kernel copying pinned pages at fork.
    if (absl::Status fork_ok = CheckCopyOnForkKernel(); !fork_ok.ok()) {
      return fork_ok;
    }
  }
  absl::StatusOr<FunctionLibrary> library =
      FunctionLibrary::Open(options_.function_path);
  if (!library.ok()) {
    return library.status();
  }
  library_.emplace(*std::move(library));
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
  sets_ = std::make_unique<ConnectionSetPool>(session_.get(), options_.targets,
                                              options_.prepared);
  if (absl::Status filled = sets_->Fill(options_.cold ? 1 : options_.prepared);
      !filled.ok()) {
    return filled;
  }
  if (ibv_context* context = sets_->FirstContext(); context != nullptr) {
    absl::StatusOr<ProviderDoorbell> doorbell = DetectDoorbell(context);
    if (!doorbell.ok()) {
      return doorbell.status();
    }
    doorbell_ = *std::move(doorbell);
  }
  if (options_.cold) {
    return absl::OkStatus();
  }
  InstancePool::Options policy;
  policy.spares = options_.spares;
  policy.max_instances = options_.max_instances;
  policy.idle_timeout = options_.idle_timeout;
  instances_ = std::make_unique<InstanceSupervisor>(
      policy, InstanceSpec{library_->function(), doorbell_, getpid()},
      sets_.get(),
      [this](uint64_t route, worker::v1::InvokeReply reply) {
        Reply(route, std::move(reply));
      },
      [this] { return ForeignFds(); },
      [this](uint64_t route, bool closed) {
        if (closed) {
          channels_.Drop(route);
        } else {
          channels_.Unpark(route);
        }
      });
  sets_->StartMaintaining();
  return absl::OkStatus();
}

std::vector<int> Worker::ForeignFds() const {
  std::vector<int> fds = {swiftd_.fd()};
  for (const auto& [id, fd] : channels_.Fds()) {
    fds.push_back(fd);
  }
  return fds;
}

void Worker::NoteActivity() {
  const absl::Time now = absl::Now();
  if (instances_ != nullptr) {
    instances_->NoteActivity(now);
  }
  swiftd_.NoteActivity(now);
}

void Worker::Reply(uint64_t route, worker::v1::InvokeReply reply) {
  swiftd_.NoteActivity(absl::Now());
  if (route != kSwiftd) {
    channels_.Reply(route, reply);
    return;
  }
  swiftd_.SendReply(std::move(reply), Stats());
}

worker::v1::WorkerStats Worker::Stats() {
  worker::v1::WorkerStats stats;
  if (instances_ != nullptr) {
    instances_->FillStats(&stats);
  }
  if (cold_ != nullptr) {
    stats.set_instances(cold_->running());
    stats.set_busy(cold_->running());
    stats.set_forks(cold_->forks());
  }
  stats.set_prepared_sets(
      sets_ == nullptr ? 0 : static_cast<uint32_t>(sets_->prepared_count()));
  stats.set_channel_invocations(channels_.invocations());
  stats.set_channel_failures(channels_.failures());
  stats.set_channels(static_cast<uint32_t>(channels_.size()));
  return stats;
}

void Worker::RunCold(const worker::v1::InvokeRequest& request, uint64_t route) {
  worker::v1::InvokeReply reply;
  reply.set_id(request.id());
  absl::StatusOr<ConnectionSet> set = sets_->Take(/*connect_if_none=*/false);
  if (!set.ok()) {
    EncodeStatus(
        absl::InternalError("the cold worker has no connected QPs left"),
        &reply);
  } else {
    std::vector<Connection*> views;
    for (const auto& connection : *set) {
      views.push_back(connection.get());
    }
    absl::StatusOr<std::unique_ptr<InstanceRuntime>> runtime =
        InstanceRuntime::Create(library_->function(), views, doorbell_);
    if (runtime.ok()) {
      reply = (*runtime)->Run(request);
    } else {
      EncodeStatus(runtime.status(), &reply);
    }
    reply.set_instance_pid(getpid());
    reply.set_served_by(worker::v1::COLD);
  }
  Reply(route, std::move(reply));
}

void Worker::HandleRequest(const worker::v1::InvokeRequest& request,
                           uint64_t route) {
  if (options_.cold) {
    RunCold(request, route);
    return;
  }
  if (cold_ != nullptr) {
    if (absl::Status served = cold_->Serve(request, route); !served.ok()) {
      worker::v1::InvokeReply reply;
      reply.set_id(request.id());
      EncodeStatus(served, &reply);
      reply.set_served_by(worker::v1::COLD);
      reply.set_from_template(true);
      Reply(route, std::move(reply));
    }
    return;
  }
  // On a channel, the instance answers the client itself.
  const int channel_fd = route == kSwiftd ? -1 : channels_.fd(route);
  if (absl::Status served = instances_->Serve(request, route, channel_fd);
      !served.ok()) {
    worker::v1::InvokeReply reply;
    reply.set_id(request.id());
    EncodeStatus(served, &reply);
    Reply(route, std::move(reply));
  }
}

std::vector<EventLoop::Watch> Worker::Watches() {
  // Instances first, then channels, then swiftd: replies go out before
  // new work comes in.
  std::vector<EventLoop::Watch> watches;
  if (instances_ != nullptr) {
    for (const auto& [id, fd] : instances_->Fds()) {
      watches.push_back({fd, kInstance, id});
    }
  }
  if (cold_ != nullptr) {
    for (const auto& [id, fd] : cold_->Fds()) {
      watches.push_back({fd, kColdInstance, id});
    }
  }
  for (const auto& [id, fd] : channels_.ReadableFds()) {
    watches.push_back({fd, kChannel, id});
  }
  watches.push_back({swiftd_.fd(), kControl, 0});
  return watches;
}

absl::Time Worker::NextWake() {
  absl::Time wake = swiftd_.NextStatsSend();
  if (cold_ != nullptr) {
    wake = std::min({wake, cold_->NextWake(), cold_refill_at_});
  }
  if (instances_ != nullptr) {
    wake = std::min(wake, instances_->NextWake());
  }
  return wake;
}

bool Worker::OnReadable(const EventLoop::Watch& watch) {
  switch (watch.kind) {
    case kInstance:
      // An invocation's start or end (a parked channel's request starts
      // without the worker reading it): stats wait for the pause after.
      swiftd_.NoteActivity(absl::Now());
      instances_->OnReadable(watch.id);
      return true;
    case kColdInstance:
      cold_->OnReadable(watch.id);
      return true;
    case kChannel:
      if (std::optional<worker::v1::InvokeRequest> request =
              channels_.Receive(watch.id)) {
        NoteActivity();
        HandleRequest(*request, watch.id);
      }
      return true;
    default:
      return OnControl();
  }
}

bool Worker::OnControl() {
  absl::StatusOr<SwiftdLink::Down> down = swiftd_.Receive();
  if (!down.ok()) {
    return false;  // swiftd closed us: retire.
  }
  NoteActivity();
  if (!down->message.has_value()) {
    worker::v1::InvokeReply reply;
    EncodeStatus(absl::InvalidArgumentError("malformed request"), &reply);
    Reply(kSwiftd, std::move(reply));
    return true;
  }
  if (down->message->has_open_channel()) {
    if (down->fds.size() == 1 && !options_.cold && cold_ == nullptr) {
      channels_.Open(down->message->open_channel(), std::move(down->fds[0]));
    }
    // Otherwise dropped: the client sees its channel close.
    return true;
  }
  HandleRequest(down->message->invoke(), kSwiftd);
  return !options_.cold;
}

void Worker::RefillCold(absl::Time now) {
  if (now < cold_refill_at_) {
    return;
  }
  if (cold_->running() > 0) {
    cold_refill_at_ = now + kColdRefillDelay;  // After the last reply.
    return;
  }
  cold_refill_at_ = absl::InfiniteFuture();
  for (const std::string& key : cold_to_refill_) {
    auto pool = cold_pools_.find(key);
    if (pool != cold_pools_.end() && pool->second->prepared_count() == 0) {
      // One attempt: a peer that is down is met again on the next request.
      (void)pool->second->Fill(1);
    }
  }
  cold_to_refill_.clear();
}

void Worker::OnRound() {
  if (cold_ != nullptr) {
    cold_->Expire(absl::Now());
    RefillCold(absl::Now());
  }
  if (instances_ != nullptr) {
    instances_->Expire(absl::Now());
    // Off the request path: fork the spares used since, and give a free
    // spare the channel that asked for a FORK last, so that its next
    // request goes straight to the spare.
    instances_->TopUpSpares(absl::Now());
    if (std::optional<uint64_t> route = channels_.ChannelToPark();
        route.has_value() && instances_->Park(*route, channels_.fd(*route))) {
      channels_.Park(*route);
    }
  }
  swiftd_.SendStatsIfChanged(Stats(), absl::Now());
}

absl::Status Worker::Run() {
  const absl::Time start = absl::Now();
  if (absl::Status started = Start(); !started.ok()) {
    swiftd_.SendFailed(started);
    return started;
  }
  worker::v1::WorkerReady ready;
  ready.set_pid(getpid());
  ready.set_ready_connections(
      sets_ == nullptr ? 0
                       : static_cast<uint32_t>(sets_->prepared_count() *
                                               options_.targets.size()));
  ready.set_startup_us(absl::ToInt64Microseconds(absl::Now() - start));
  swiftd_.SendReady(ready);
  return EventLoop::Run(*this);
}

}  // namespace swift
