// FunctionChannels implementation; see function_channels.h.
#include "client/function_channels.h"

#include <poll.h>

#include "absl/strings/str_cat.h"
#include "client/fast_path_client.h"
#include "proto/fast_path.pb.h"
#include "proto/invoke_reply.h"
#include "proto/worker.pb.h"

namespace swift {
namespace {

// How long past the function's own timeout a caller waits for the worker
// (which enforces that timeout) before giving up on it.
constexpr int kWorkerGraceMs = 30000;

}  // namespace

absl::StatusOr<std::unique_ptr<SeqpacketSocket>> FunctionChannels::Take(
    const std::string& function, bool* opened) {
  {
    absl::MutexLock lock(&mu_);
    auto it = idle_.find(function);
    if (it != idle_.end() && !it->second.empty()) {
      std::unique_ptr<SeqpacketSocket> channel = std::move(it->second.back());
      it->second.pop_back();
      *opened = false;
      return channel;
    }
  }
  // swiftd answers once the function exists and its worker has the
  // channel.
  absl::StatusOr<SeqpacketSocket> socket = FastPathClient::OpenChannel(
      path_, client_name_, v1::FastHello::FUNCTION, nullptr, function);
  if (!socket.ok()) {
    return socket.status();
  }
  *opened = true;
  return std::make_unique<SeqpacketSocket>(*std::move(socket));
}

void FunctionChannels::Return(const std::string& function,
                              std::unique_ptr<SeqpacketSocket> channel) {
  absl::MutexLock lock(&mu_);
  idle_[function].push_back(std::move(channel));
}

absl::StatusOr<v1::InvokeResponse> FunctionChannels::Invoke(
    const v1::InvokeRequest& request) {
  const std::string& function = request.function();
  worker::v1::InvokeRequest call;
  {
    absl::MutexLock lock(&mu_);
    call.set_id(next_id_++);
  }
  call.set_mode(request.mode() == v1::InvokeRequest::WARM ? worker::v1::WARM
                                                          : worker::v1::FORK);
  call.set_payload(request.payload());
  call.set_timeout_ms(request.timeout_ms() == 0 ? 10000 : request.timeout_ms());
  const std::string bytes = call.SerializeAsString();
  std::unique_ptr<SeqpacketSocket> channel;
  for (int attempt = 0; channel == nullptr; ++attempt) {
    bool opened = false;
    absl::StatusOr<std::unique_ptr<SeqpacketSocket>> taken =
        Take(function, &opened);
    if (!taken.ok()) {
      return taken.status();
    }
    if ((*taken)->Send(bytes).ok()) {
      channel = *std::move(taken);
    } else if (opened || attempt > 0) {
      return absl::UnavailableError(
          absl::StrCat("function '", function, "': its worker has exited"));
    }
    // Else an idle channel to a worker stopped since: never delivered, so
    // safe to send again on a fresh one. The other idle channels lead to
    // the same stopped worker.
    absl::MutexLock lock(&mu_);
    idle_.erase(function);
  }
  pollfd ready = {channel->fd(), POLLIN, 0};
  const int waited =
      poll(&ready, 1, static_cast<int>(call.timeout_ms()) + kWorkerGraceMs);
  if (waited == 0) {
    return absl::DeadlineExceededError(absl::StrCat(
        "function '", function, "': its worker stopped answering"));
  }
  absl::StatusOr<SeqpacketSocket::Message> message = channel->Receive();
  worker::v1::InvokeReply reply;
  if (waited < 0 || !message.ok() || !reply.ParseFromString(message->data)) {
    return absl::UnavailableError(
        absl::StrCat("function '", function,
                     "': the function's worker exited during the invocation"));
  }
  Return(function, std::move(channel));
  return ToInvokeResponse(reply, function);
}

}  // namespace swift
