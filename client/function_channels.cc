// FunctionChannels implementation; see function_channels.h.
#include "client/function_channels.h"

#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <optional>

#include "absl/strings/str_cat.h"
#include "client/fast_path_client.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"
#include "swift/defaults.h"

namespace swift {
namespace {

// How long past the function's own timeout a caller waits for the worker
// (which enforces that timeout) before giving up on it.
constexpr absl::Duration kWorkerGrace = absl::Seconds(30);

}  // namespace

FunctionChannels::Pool& FunctionChannels::PoolFor(const std::string& function) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Pool>& pool = idle_[function];
  if (pool == nullptr) {
    pool = std::make_unique<Pool>();
  }
  return *pool;
}

absl::StatusOr<SeqpacketSocket> FunctionChannels::Take(
    const std::string& function, bool* opened) {
  if (std::optional<SeqpacketSocket> idle = PoolFor(function).Take()) {
    *opened = false;
    return *std::move(idle);
  }
  // swiftd answers once the function exists and its worker has the
  // channel.
  *opened = true;
  return FastPathClient::OpenChannel(
      path_, client_name_, v1::FastHello::FUNCTION, nullptr, function);
}

absl::StatusOr<v1::InvokeResponse> FunctionChannels::Invoke(
    const v1::InvokeRequest& request) {
  const std::string& function = request.function();
  v1::FastRequest call;
  {
    absl::MutexLock lock(&mu_);
    call.set_call_id(next_call_id_++);
  }
  *call.mutable_invoke() = request;
  const absl::Duration timeout = request.timeout_ms() == 0
                                     ? kDefaultCallTimeout
                                     : absl::Milliseconds(request.timeout_ms());
  // The worker applies the timeout the client waits for.
  call.mutable_invoke()->set_timeout_ms(
      static_cast<uint32_t>(absl::ToInt64Milliseconds(timeout)));
  const std::string bytes = call.SerializeAsString();
  std::optional<SeqpacketSocket> channel;
  for (int attempt = 0; !channel.has_value(); ++attempt) {
    bool opened = false;
    absl::StatusOr<SeqpacketSocket> taken = Take(function, &opened);
    if (!taken.ok()) {
      return taken.status();
    }
    if (taken->Send(bytes).ok()) {
      channel = *std::move(taken);
    } else if (opened || attempt > 0) {
      return absl::UnavailableError(
          absl::StrCat("function '", function, "': its worker has exited"));
    } else {
      // An idle channel to a worker stopped since: never delivered, so
      // safe to send again on a fresh one. The other idle channels lead to
      // the same stopped worker.
      PoolFor(function).Clear();
    }
  }
  // The answer to this call. An answer with another call id is a late one
  // to an earlier call on this channel (an instance that answered as the
  // worker gave up on it): skipped. Call id 0 answers a request the worker
  // could not read.
  const absl::Time deadline = absl::Now() + timeout + kWorkerGrace;
  v1::FastResponse response;
  do {
    pollfd ready = {channel->fd(), POLLIN, 0};
    const int waited =
        poll(&ready, 1,
             static_cast<int>(std::max<int64_t>(
                 0, absl::ToInt64Milliseconds(deadline - absl::Now()))));
    if (waited == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "function '", function, "': its worker stopped answering"));
    }
    absl::StatusOr<SeqpacketSocket::Message> message = channel->Receive();
    if (waited < 0 || !message.ok() ||
        !response.ParseFromString(message->data)) {
      return absl::UnavailableError(absl::StrCat(
          "function '", function,
          "': the function's worker exited during the invocation"));
    }
  } while (response.call_id() != 0 && response.call_id() != call.call_id());
  PoolFor(function).Give(*std::move(channel));
  // The worker named the function in its errors (ToInvokeResponse()).
  if (absl::Status status = DecodeStatus(response); !status.ok()) {
    return status;
  }
  return std::move(*response.mutable_invoke());
}

}  // namespace swift
