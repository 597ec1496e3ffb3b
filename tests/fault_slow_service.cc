// SlowService implementation; see fault_slow_service.h.
#include "tests/fault_slow_service.h"

#include <poll.h>

#include "absl/strings/str_cat.h"
#include "common/unix_socket.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"

namespace swift::testing {

absl::StatusOr<SlowService> SlowService::Open(const std::string& socket,
                                              const std::string& service) {
  absl::StatusOr<SeqpacketSocket> channel =
      SeqpacketSocket::Connect(FastPathSocketPath(socket));
  if (!channel.ok()) {
    return channel.status();
  }
  SlowService slow(*std::move(channel));
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_channel(v1::FastHello::SERVICE);
  hello.mutable_hello()->set_client_name("fault_slow_service");
  if (absl::Status sent = slow.channel_.Send(hello.SerializeAsString());
      !sent.ok()) {
    return sent;
  }
  if (absl::StatusOr<SeqpacketSocket::Message> reply = slow.channel_.Receive();
      !reply.ok()) {
    return reply.status();
  }
  v1::ServiceUp listen;
  listen.mutable_listen()->set_service(service);
  // An endpoint no QP stands behind: the connect never gets to use it.
  verbs::QpEndpoint made_up;
  made_up.qpn = 0x1234;
  made_up.psn = 1;
  listen.mutable_listen()->add_endpoints(verbs::EncodeEndpoint(made_up));
  if (absl::Status sent = slow.channel_.Send(listen.SerializeAsString());
      !sent.ok()) {
    return sent;
  }
  absl::StatusOr<v1::ServiceDown> reply = slow.Next(absl::Seconds(10));
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->has_listen_reply() || reply->listen_reply().code() != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("swiftd refused the service: ", reply->DebugString()));
  }
  return slow;
}

absl::StatusOr<v1::ServiceDown> SlowService::Next(absl::Duration limit) {
  pollfd ready = {channel_.fd(), POLLIN, 0};
  if (poll(&ready, 1, static_cast<int>(absl::ToInt64Milliseconds(limit))) <=
      0) {
    return absl::DeadlineExceededError("nothing from swiftd on the service");
  }
  absl::StatusOr<SeqpacketSocket::Message> message = channel_.Receive();
  if (!message.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "swiftd closed the service channel: ", message.status().ToString()));
  }
  v1::ServiceDown down;
  if (!down.ParseFromString(message->data)) {
    return absl::DataLossError("not a ServiceDown");
  }
  return down;
}

absl::Status SlowService::Answer(uint64_t event_id, int32_t code,
                                 const std::string& message) {
  v1::ServiceUp up;
  up.mutable_accept_reply()->set_event_id(event_id);
  up.mutable_accept_reply()->set_code(code);
  up.mutable_accept_reply()->set_message(message);
  return channel_.Send(up.SerializeAsString());
}

}  // namespace swift::testing
