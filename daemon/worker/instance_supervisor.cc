// InstanceSupervisor implementation; see instance_supervisor.h.
#include "daemon/worker/instance_supervisor.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/wire_status.h"

namespace swift {

InstanceSupervisor::InstanceSupervisor(InstancePool::Options policy,
                                       InstanceSpec spec,
                                       ConnectionSetPool* sets, ReplySink reply,
                                       ForeignFds foreign_fds,
                                       ChannelBack channel_back)
    : spec_(std::move(spec)),
      sets_(sets),
      reply_(std::move(reply)),
      foreign_fds_(std::move(foreign_fds)),
      channel_back_(std::move(channel_back)),
      pool_(policy) {}

InstancePool::Job InstanceSupervisor::JobFor(
    const worker::v1::InvokeRequest& request, worker::v1::InvokeMode mode,
    uint64_t route) const {
  InstancePool::Job job;
  job.request_id = request.id();
  job.mode = mode;
  job.route = route;
  job.started = absl::Now();
  job.deadline =
      job.started + absl::Milliseconds(std::max(1u, request.timeout_ms()));
  return job;
}

namespace {

// `request` as the instance gets it: when it came on a client's channel
// (`channel_fd` valid), with how it is served, for the instance to answer
// the client as the worker would; otherwise without answer_on_channel.
worker::v1::InvokeRequest ForInstance(const worker::v1::InvokeRequest& request,
                                      int channel_fd,
                                      worker::v1::InvokeMode mode, bool spare) {
  worker::v1::InvokeRequest copy = request;
  if (channel_fd < 0) {
    copy.clear_answer_on_channel();
  } else if (copy.has_answer_on_channel()) {
    copy.mutable_answer_on_channel()->set_served_by(mode);
    copy.mutable_answer_on_channel()->set_spare(spare);
  }
  return copy;
}

}  // namespace

absl::Status InstanceSupervisor::Serve(const worker::v1::InvokeRequest& request,
                                       uint64_t route, int channel_fd) {
  if (!request.has_answer_on_channel()) {
    channel_fd = -1;
  }
  // WARM: an instance that has run; FORK (and WARM without one): a spare,
  // else a child forked now. A send that fails leaves the instance to be
  // reaped when its socket reports the end.
  if (request.mode() == worker::v1::WARM) {
    if (std::optional<uint64_t> idle = pool_.FindIdle(/*fresh=*/false);
        idle &&
        Dispatch(*idle, request, worker::v1::WARM, route, channel_fd).ok()) {
      return absl::OkStatus();
    }
  }
  if (std::optional<uint64_t> spare = pool_.FindIdle(/*fresh=*/true);
      spare &&
      Dispatch(*spare, request, worker::v1::FORK, route, channel_fd).ok()) {
    return absl::OkStatus();
  }
  return StartInstance(&request, route, channel_fd).status();
}

absl::Status InstanceSupervisor::Dispatch(
    uint64_t id, const worker::v1::InvokeRequest& request,
    worker::v1::InvokeMode mode, uint64_t route, int channel_fd) {
  const bool spare = pool_.Find(id)->fresh;
  std::vector<int> fds;
  if (channel_fd >= 0) {
    fds.push_back(channel_fd);
  }
  worker::v1::InstanceDown down;
  *down.mutable_invoke() = ForInstance(request, channel_fd, mode, spare);
  if (absl::Status sent = children_.Send(id, down.SerializeAsString(), fds);
      !sent.ok()) {
    return sent;
  }
  pool_.Start(id, JobFor(request, mode, route));
  spare_hits_ += spare ? 1 : 0;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> InstanceSupervisor::StartInstance(
    const worker::v1::InvokeRequest* first, uint64_t route, int channel_fd) {
  if (pool_.Full()) {
    if (std::optional<uint64_t> oldest = pool_.ToRetire()) {
      // Killed now, reaped when its socket reports the end (the loop), so
      // this request does not wait for a process to die.
      children_.Kill(*oldest);
      pool_.Retire(*oldest);
    }
  }
  if (pool_.Full()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the function already runs ", pool_.Live(),
                     " instances (its max_instances); retry later"));
  }
  // A spare never waits for a broker round trip on this loop: it takes a
  // set the maintenance thread prepared, or waits for one.
  absl::StatusOr<ConnectionSet> set =
      sets_->Take(/*connect_if_none=*/first != nullptr);
  if (!set.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the worker has no connected QPs to give an instance: ",
                     set.status().message()));
  }
  // Copied before fork: the pool's lock is not the child's to take.
  absl::flat_hash_set<uint32_t> shared_lkeys = sets_->SharedLkeys();
  std::optional<worker::v1::InvokeRequest> request;
  if (first != nullptr) {
    request = ForInstance(*first, channel_fd, worker::v1::FORK,
                          /*spare=*/false);
  }
  // The child keeps the channel its first request came on, and no other.
  std::vector<int> close_in_child = foreign_fds_();
  close_in_child.erase(
      std::remove(close_in_child.begin(), close_in_child.end(), channel_fd),
      close_in_child.end());
  absl::StatusOr<uint64_t> id = children_.Fork(
      *set, close_in_child,
      [&](SeqpacketSocket socket, const ConnectionSet& connections) {
        ServeAsInstance(spec_, std::move(socket), connections,
                        std::move(shared_lkeys),
                        request.has_value() ? &*request : nullptr,
                        UniqueFd(request.has_value() ? channel_fd : -1));
      });
  if (!id.ok()) {
    sets_->PutBack(*std::move(set));
    return id.status();
  }
  if (first != nullptr) {
    pool_.AddRunning(*id, JobFor(*first, worker::v1::FORK, route));
  } else {
    pool_.Add(*id, absl::Now());
  }
  return *id;
}

bool InstanceSupervisor::Park(uint64_t route, int channel_fd) {
  std::optional<uint64_t> spare = pool_.SpareToPark();
  if (!spare.has_value()) {
    return false;
  }
  worker::v1::InstanceDown down;
  down.mutable_park()->set_route(route);
  if (!children_.Send(*spare, down.SerializeAsString(), {channel_fd}).ok()) {
    return false;  // Reaped when its socket reports the end.
  }
  pool_.Park(*spare, route);
  return true;
}

void InstanceSupervisor::GiveBack(uint64_t route, bool closed) {
  if (route != 0 && channel_back_) {
    channel_back_(route, closed);
  }
}

void InstanceSupervisor::Reap(uint64_t id, const absl::Status& reason) {
  const InstancePool::Instance* instance = pool_.Find(id);
  const bool busy = instance != nullptr && instance->busy;
  const InstancePool::Job job =
      instance != nullptr ? instance->job : InstancePool::Job();
  const uint64_t held = pool_.Unpark(id);
  InstanceProcesses::Ended ended = children_.Reap(id);
  pool_.Remove(id);
  if (busy) {
    absl::Status status = reason;
    if (absl::IsInternal(reason)) {
      status = absl::InternalError(absl::StrCat(
          "the function's instance (pid ", ended.pid, ") ",
          DescribeExit(ended.wait_status), " during the invocation"));
    }
    worker::v1::InvokeReply reply;
    reply.set_id(job.request_id);
    EncodeStatus(status, &reply);
    reply.set_instance_pid(ended.pid);
    reply.set_served_by(job.mode);
    reply_(job.route, std::move(reply));
  }
  // A channel it held is the worker's to read again (after the error
  // above, when it was running the channel's request).
  GiveBack(held, /*closed=*/false);
  // The child is gone: its QPs are the worker's again. Closing recycles
  // them (or destroys those left in error), on the maintenance thread.
  sets_->Retire(std::move(ended.connections));
}

void InstanceSupervisor::OnReadable(uint64_t id) {
  const InstancePool::Instance* instance = pool_.Find(id);
  if (instance == nullptr) {
    return;  // Reaped earlier in this round.
  }
  if (instance->retiring) {
    Reap(id, absl::OkStatus());
    return;
  }
  absl::StatusOr<SeqpacketSocket::Message> message = children_.Receive(id);
  worker::v1::InstanceUp up;
  if (!message.ok() || !up.ParseFromString(message->data)) {
    Reap(id, absl::InternalError("crashed"));
    return;
  }
  if (up.has_started()) {
    // A parked channel's request: the deadline and a crash are ours.
    worker::v1::InvokeRequest started;
    started.set_id(up.started().id());
    started.set_timeout_ms(up.started().timeout_ms());
    pool_.Start(id, JobFor(started, worker::v1::FORK, up.started().route()));
    ++spare_hits_;
    return;
  }
  if (up.has_channel_back()) {
    GiveBack(pool_.Unpark(id), up.channel_back().closed());
    return;
  }
  if (up.has_refused()) {
    // The spare answered its parked channel's client an error: counted on
    // the channel's route (the one this instance holds, not one it names)
    // as an invocation that failed and was answered.
    if (instance->parked_route != 0) {
      worker::v1::InvokeReply reply;
      reply.set_answered(true);
      reply.set_code(up.refused().code() != 0
                         ? up.refused().code()
                         : static_cast<int>(absl::StatusCode::kUnknown));
      reply_(instance->parked_route, std::move(reply));
    }
    return;
  }
  if (!instance->busy) {
    return;  // Nothing asked: an instance answers only what it was sent.
  }
  worker::v1::InvokeReply reply = std::move(*up.mutable_reply());
  const absl::Time now = absl::Now();
  const InstancePool::Job job = pool_.Finish(id, now);
  if (!reply.answered()) {
    reply.set_worker_us(absl::ToInt64Microseconds(now - job.started));
    reply.set_served_by(job.mode);
    reply.set_spare(job.spare);
  }
  reply_(job.route, std::move(reply));
  if (up.has_returned()) {
    GiveBack(pool_.Unpark(id), /*closed=*/false);
  }
}

void InstanceSupervisor::Expire(absl::Time now) {
  for (const InstancePool::Expired& expired : pool_.ExpiredAt(now)) {
    if (expired.why == InstancePool::Expiry::kDeadline) {
      Reap(expired.id,
           absl::DeadlineExceededError(absl::StrCat(
               "the function did not return within its timeout; instance "
               "pid ",
               children_.pid(expired.id), " was killed")));
    } else {
      Reap(expired.id, absl::OkStatus());
    }
  }
}

void InstanceSupervisor::TopUpSpares(absl::Time now) {
  if (now < pool_.NextSpareFork()) {
    return;
  }
  for (int missing = pool_.MissingSpares(); missing > 0; --missing) {
    if (!StartInstance(nullptr, /*route=*/0, /*channel_fd=*/-1).ok()) {
      // max_instances busy, or no prepared connections yet: FORK requests
      // fork on demand meanwhile.
      pool_.NoteSpareForkFailed(absl::Now());
      return;
    }
  }
}

void InstanceSupervisor::FillStats(worker::v1::WorkerStats* stats) const {
  stats->set_instances(static_cast<uint32_t>(pool_.Live()));
  stats->set_busy(static_cast<uint32_t>(pool_.Busy()));
  stats->set_spares(static_cast<uint32_t>(pool_.Spares()));
  stats->set_forks(children_.forks());
  stats->set_spare_hits(spare_hits_);
}

}  // namespace swift
