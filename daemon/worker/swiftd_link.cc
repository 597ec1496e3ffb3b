// SwiftdLink implementation; see swiftd_link.h.
#include "daemon/worker/swiftd_link.h"

#include <algorithm>
#include <utility>

#include "proto/wire_status.h"

namespace swift {

void SwiftdLink::Send(const worker::v1::WorkerUp& up) {
  // swiftd gone: the loop notices on its next receive.
  (void)control_.Send(up.SerializeAsString());
}

void SwiftdLink::SendReady(const worker::v1::WorkerReady& ready) {
  worker::v1::WorkerUp up;
  *up.mutable_ready() = ready;
  Send(up);
}

void SwiftdLink::SendFailed(const absl::Status& status) {
  worker::v1::WorkerUp up;
  EncodeStatus(status, up.mutable_failed());
  Send(up);
}

void SwiftdLink::SendReply(worker::v1::InvokeReply reply,
                           const worker::v1::WorkerStats& stats) {
  worker::v1::WorkerUp up;
  *up.mutable_reply() = std::move(reply);
  *up.mutable_reply()->mutable_stats() = reported_ = stats;
  held_since_ = absl::InfiniteFuture();
  Send(up);
}

void SwiftdLink::SendStatsIfChanged(const worker::v1::WorkerStats& stats,
                                    absl::Time now) {
  if (stats.SerializeAsString() == reported_.SerializeAsString()) {
    held_since_ = absl::InfiniteFuture();
    return;
  }
  if (held_since_ == absl::InfiniteFuture()) {
    held_since_ = now;
  }
  if (now < NextStatsSend()) {
    return;
  }
  held_since_ = absl::InfiniteFuture();
  worker::v1::WorkerUp up;
  *up.mutable_stats() = reported_ = stats;
  Send(up);
}

absl::Time SwiftdLink::NextStatsSend() const {
  if (held_since_ == absl::InfiniteFuture()) {
    return absl::InfiniteFuture();
  }
  return std::min(last_activity_ + kStatsQuiet, held_since_ + kStatsMaxDelay);
}

absl::StatusOr<SwiftdLink::Down> SwiftdLink::Receive() {
  absl::StatusOr<SeqpacketSocket::Message> message = control_.Receive();
  if (!message.ok()) {
    return message.status();
  }
  Down down;
  down.fds = std::move(message->fds);
  worker::v1::WorkerDown parsed;
  if (parsed.ParseFromString(message->data)) {
    down.message = std::move(parsed);
  }
  return down;
}

}  // namespace swift
