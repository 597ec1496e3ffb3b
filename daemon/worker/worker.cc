// Worker implementation; see worker.h.
#include "daemon/worker/worker.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/worker/fork/fork_support.h"
#include "daemon/worker/instance_runtime.h"
#include "proto/wire_status.h"

namespace swift {

Worker::Worker(Options options, SeqpacketSocket control)
    : options_(std::move(options)), swiftd_(std::move(control)) {}

absl::Status Worker::Start() {
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
      [this] { return ForeignFds(); });
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

void Worker::Reply(uint64_t route, worker::v1::InvokeReply reply) {
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
  if (absl::Status served = instances_->Serve(request, route); !served.ok()) {
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
  for (const auto& [id, fd] : channels_.Fds()) {
    watches.push_back({fd, kChannel, id});
  }
  watches.push_back({swiftd_.fd(), kControl, 0});
  return watches;
}

absl::Time Worker::NextWake() {
  return instances_ == nullptr ? absl::InfiniteFuture()
                               : instances_->NextWake();
}

bool Worker::OnReadable(const EventLoop::Watch& watch) {
  switch (watch.kind) {
    case kInstance:
      instances_->OnReadable(watch.id);
      return true;
    case kChannel:
      if (std::optional<worker::v1::InvokeRequest> request =
              channels_.Receive(watch.id)) {
        if (instances_ != nullptr) {
          instances_->NoteActivity(absl::Now());
        }
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
  if (instances_ != nullptr) {
    instances_->NoteActivity(absl::Now());
  }
  if (!down->message.has_value()) {
    worker::v1::InvokeReply reply;
    EncodeStatus(absl::InvalidArgumentError("malformed request"), &reply);
    Reply(kSwiftd, std::move(reply));
    return true;
  }
  if (down->message->has_open_channel()) {
    if (down->fds.size() == 1 && !options_.cold) {
      channels_.Open(down->message->open_channel(), std::move(down->fds[0]));
    }
    // Otherwise dropped: the client sees its channel close.
    return true;
  }
  HandleRequest(down->message->invoke(), kSwiftd);
  return !options_.cold;
}

void Worker::OnRound() {
  if (instances_ != nullptr) {
    instances_->Expire(absl::Now());
    // Off the request path: fork the spares used since.
    instances_->TopUpSpares(absl::Now());
  }
  swiftd_.SendStatsIfChanged(Stats());
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
      static_cast<uint32_t>(sets_->prepared_count() * options_.targets.size()));
  ready.set_startup_us(absl::ToInt64Microseconds(absl::Now() - start));
  swiftd_.SendReady(ready);
  return EventLoop::Run(*this);
}

}  // namespace swift
