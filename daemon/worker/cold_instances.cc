// ColdInstances implementation; see cold_instances.h.
#include "daemon/worker/cold_instances.h"

#include "absl/strings/str_cat.h"
#include "proto/wire_status.h"

namespace swift {

absl::Status ColdInstances::Serve(const worker::v1::InvokeRequest& request,
                                  uint64_t route) {
  if (request.cold_function().library_path().empty()) {
    return absl::InvalidArgumentError(
        "a cold template serves only COLD invocations that name their "
        "function's library");
  }
  // worker_us (and the timeout) count from here: connect, fork, load, run.
  const absl::Time now = absl::Now();
  absl::StatusOr<ConnectionSet> set = connect_(request);
  if (!set.ok()) {
    return set.status();
  }
  absl::StatusOr<uint64_t> id = children_.Fork(
      *set, foreign_fds_(),
      [this, &request](SeqpacketSocket socket, const ConnectionSet& mine) {
        body_(std::move(socket), mine, request);
      });
  if (!id.ok()) {
    retire_(*std::move(set));
    return id.status();
  }
  const absl::Duration timeout =
      absl::Milliseconds(request.timeout_ms() == 0 ? 30000
                                                   : request.timeout_ms());
  jobs_[*id] = Job{request.id(), route, now, now + timeout};
  return absl::OkStatus();
}

void ColdInstances::OnReadable(uint64_t id) {
  auto job = jobs_.find(id);
  if (job == jobs_.end()) {
    // Answered already: what is left to read is its end.
    End(id, absl::OkStatus());
    return;
  }
  absl::StatusOr<SeqpacketSocket::Message> message = children_.Receive(id);
  worker::v1::InvokeReply reply;
  if (!message.ok() || !reply.ParseFromString(message->data)) {
    End(id, absl::InternalError("crashed"));
    return;
  }
  reply.set_id(job->second.request_id);
  reply.set_worker_us(absl::ToInt64Microseconds(absl::Now() - job->second.started));
  reply.set_served_by(worker::v1::COLD);
  reply.set_from_template(true);
  const uint64_t route = job->second.route;
  jobs_.erase(job);
  reply_(route, std::move(reply));
  // The child exits after its one reply: reaped when its socket closes.
}

void ColdInstances::End(uint64_t id, const absl::Status& status) {
  const pid_t pid = children_.pid(id);
  InstanceProcesses::Ended ended = children_.Reap(id);
  auto job = jobs_.find(id);
  if (job != jobs_.end()) {
    absl::Status reported = status;
    if (absl::IsInternal(status)) {
      reported = absl::InternalError(
          absl::StrCat("the function's cold instance (pid ", pid, ") ",
                       DescribeExit(ended.wait_status),
                       " during the invocation"));
    }
    worker::v1::InvokeReply reply;
    reply.set_id(job->second.request_id);
    EncodeStatus(reported, &reply);
    reply.set_instance_pid(pid);
    reply.set_served_by(worker::v1::COLD);
    reply.set_from_template(true);
    const uint64_t route = job->second.route;
    jobs_.erase(job);
    reply_(route, std::move(reply));
  }
  // The child is gone: its QPs are the template's again, to close.
  retire_(std::move(ended.connections));
}

void ColdInstances::Expire(absl::Time now) {
  std::vector<std::pair<uint64_t, absl::Duration>> late;
  for (const auto& [id, job] : jobs_) {
    if (job.deadline <= now) {
      late.emplace_back(id, job.deadline - job.started);
    }
  }
  for (const auto& [id, timeout] : late) {
    End(id, absl::DeadlineExceededError(absl::StrCat(
                "the function did not return within its timeout (",
                absl::FormatDuration(timeout), "); its cold instance (pid ",
                children_.pid(id), ") was killed")));
  }
}

absl::Time ColdInstances::NextWake() const {
  absl::Time wake = absl::InfiniteFuture();
  for (const auto& [id, job] : jobs_) {
    wake = std::min(wake, job.deadline);
  }
  return wake;
}

}  // namespace swift
