// WorkerProcess implementation; see worker_process.h.
#include "daemon/functions/worker_process.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "proto/wire_status.h"

namespace swift {

WorkerProcess::~WorkerProcess() {
  Kill();
  if (reader_.joinable()) {
    reader_.join();
  }
  // process_, destroyed last, reaps the worker if the reader did not (it
  // never started: the worker failed or timed out at startup).
}

absl::Status WorkerProcess::AwaitStartup(absl::Duration timeout,
                                         worker::v1::WorkerReady* ready) {
  pollfd fd = {socket_.fd(), POLLIN, 0};
  if (poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) {
    return absl::DeadlineExceededError(absl::StrCat(
        "the worker did not get ready within ", absl::FormatDuration(timeout)));
  }
  absl::StatusOr<SeqpacketSocket::Message> message = socket_.Receive();
  worker::v1::WorkerUp up;
  if (!message.ok() || !up.ParseFromString(message->data)) {
    return absl::InternalError(
        absl::StrCat("the worker ", DescribeStartupExit(), " during startup"));
  }
  if (up.has_failed()) {
    absl::Status failed = DecodeStatus(up.failed());
    // A worker reporting a failure still says why, never OK.
    return failed.ok() ? absl::UnknownError(up.failed().message()) : failed;
  }
  *ready = up.ready();
  reader_ = std::thread([this] {
    NameThisThread("sw-worker-read");
    ReadLoop();
  });
  return absl::OkStatus();
}

absl::Status WorkerProcess::SendChannel(int fd,
                                        const worker::v1::OpenChannel& open) {
  worker::v1::WorkerDown down;
  *down.mutable_open_channel() = open;
  absl::MutexLock lock(&send_mu_);
  if (!socket_.Send(down.SerializeAsString(), {fd}).ok()) {
    return absl::UnavailableError("the function's worker has exited");
  }
  return absl::OkStatus();
}

absl::StatusOr<worker::v1::InvokeReply> WorkerProcess::Call(
    worker::v1::InvokeRequest request, absl::Duration timeout,
    absl::Duration grace) {
  auto pending = std::make_shared<Pending>();
  {
    absl::MutexLock lock(&mu_);
    if (exited_) {
      return absl::UnavailableError("the function's worker has exited");
    }
    request.set_id(next_id_++);
    pending_[request.id()] = pending;
  }
  {
    worker::v1::WorkerDown down;
    *down.mutable_invoke() = request;
    absl::MutexLock lock(&send_mu_);
    if (absl::Status sent = socket_.Send(down.SerializeAsString());
        !sent.ok()) {
      absl::MutexLock state_lock(&mu_);
      pending_.erase(request.id());
      return absl::UnavailableError("the function's worker has exited");
    }
  }
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(&pending->done),
                            timeout + grace)) {
    pending_.erase(request.id());
    return absl::DeadlineExceededError(
        "the function's worker stopped answering");
  }
  if (!pending->status.ok()) {
    return pending->status;
  }
  return pending->reply;
}

void WorkerProcess::Stop(absl::Duration grace) {
  shutdown(socket_.fd(), SHUT_WR);
  bool exited;
  {
    absl::MutexLock lock(&mu_);
    exited = mu_.AwaitWithTimeout(absl::Condition(&exited_), grace);
  }
  if (!exited) {
    Kill();
  }
}

void WorkerProcess::Kill() {
  // The whole process group: the worker's instances too.
  process_->Kill();
}

void WorkerProcess::SetExited() {
  absl::MutexLock lock(&mu_);
  exited_ = true;
}

std::string WorkerProcess::DescribeStartupExit() {
  // A worker that closed its socket but lingers gets a moment to exit.
  std::optional<int> exit = process_->WaitFor(absl::Seconds(2));
  if (!exit.has_value()) {
    process_->Kill();
    exit = process_->Wait();
  }
  SetExited();
  const int status = *exit;
  if (status < 0) {
    return "exited";
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    // exec() succeeded (SpawnProcess() reports the failures before it, and
    // of it): the dynamic loader.
    return "exited with status 127 (the dynamic loader could not load "
           "its libraries)";
  }
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("exited with status ", WEXITSTATUS(status),
                      " (see swiftd's log)");
}

bool WorkerProcess::exited() const {
  absl::MutexLock lock(&mu_);
  return exited_;
}

worker::v1::WorkerStats WorkerProcess::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void WorkerProcess::ReadLoop() {
  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> message = socket_.Receive();
    worker::v1::WorkerUp up;
    if (!message.ok() || !up.ParseFromString(message->data)) {
      break;
    }
    if (up.has_stats()) {
      absl::MutexLock lock(&mu_);
      stats_ = up.stats();
      continue;
    }
    if (!up.has_reply()) {
      continue;
    }
    absl::MutexLock lock(&mu_);
    if (up.reply().has_stats()) {
      stats_ = up.reply().stats();
    }
    auto it = pending_.find(up.reply().id());
    if (it != pending_.end()) {
      it->second->done = true;
      it->second->reply = up.reply();
      pending_.erase(it);
    }
  }
  process_->Wait();
  absl::MutexLock lock(&mu_);
  exited_ = true;
  for (auto& [id, pending] : pending_) {
    pending->done = true;
    pending->status = absl::UnavailableError(
        "the function's worker exited during the invocation");
  }
  pending_.clear();
}

}  // namespace swift
