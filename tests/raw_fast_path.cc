// A raw fast path client for tests; see raw_fast_path.h.
#include "tests/raw_fast_path.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "proto/wire_status.h"

namespace swift::testing {

absl::StatusOr<v1::FastResponse> RawCall(SeqpacketSocket& socket,
                                         const v1::FastRequest& request) {
  if (absl::Status sent = socket.Send(request.SerializeAsString());
      !sent.ok()) {
    return sent;
  }
  absl::StatusOr<SeqpacketSocket::Message> message = socket.Receive();
  if (!message.ok()) {
    return message.status();
  }
  v1::FastResponse response;
  if (!response.ParseFromString(message->data)) {
    return absl::InternalError("malformed answer");
  }
  if (absl::Status status = DecodeStatus(response); !status.ok()) {
    return status;
  }
  return response;
}

absl::StatusOr<SeqpacketSocket> OpenRaw(const std::string& path,
                                        const std::string& name,
                                        v1::FastHello::Channel kind) {
  absl::StatusOr<SeqpacketSocket> socket = SeqpacketSocket::Connect(path);
  if (!socket.ok()) {
    return socket.status();
  }
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_client_name(name);
  hello.mutable_hello()->set_pid(getpid());
  hello.mutable_hello()->set_channel(kind);
  if (absl::StatusOr<v1::FastResponse> answer = RawCall(*socket, hello);
      !answer.ok()) {
    return answer.status();
  }
  return socket;
}

v1::FastRequest RawConnectRequest(const std::string& service,
                                  absl::Duration timeout) {
  v1::FastRequest request;
  request.mutable_connect()->set_host("self");
  request.mutable_connect()->set_service(service);
  request.mutable_connect()->set_client_endpoint(
      verbs::EncodeEndpoint(verbs::QpEndpoint()));
  request.mutable_connect()->set_timeout_ms(
      static_cast<uint32_t>(absl::ToInt64Milliseconds(timeout)));
  return request;
}

absl::Status ListenRaw(SeqpacketSocket& channel, const std::string& service,
                       int endpoints) {
  v1::ServiceUp up;
  up.mutable_listen()->set_service(service);
  for (int i = 0; i < endpoints; ++i) {
    verbs::QpEndpoint endpoint;
    endpoint.qpn = 0x100 + static_cast<uint32_t>(i);
    up.mutable_listen()->add_endpoints(verbs::EncodeEndpoint(endpoint));
  }
  if (absl::Status sent = channel.Send(up.SerializeAsString()); !sent.ok()) {
    return sent;
  }
  absl::StatusOr<SeqpacketSocket::Message> message = channel.Receive();
  v1::ServiceDown down;
  if (!message.ok() || !down.ParseFromString(message->data) ||
      !down.has_listen_reply()) {
    return absl::UnavailableError("no ListenReply");
  }
  return DecodeStatus(down.listen_reply());
}

absl::Status AddRawEndpoints(SeqpacketSocket& channel, uint32_t first_qpn,
                             int count) {
  // An encoded endpoint is ~60 bytes: 512 of them stay well under a message.
  constexpr int kPerMessage = 512;
  for (int sent = 0; sent < count; sent += kPerMessage) {
    v1::ServiceUp up;
    for (int i = sent; i < std::min(count, sent + kPerMessage); ++i) {
      verbs::QpEndpoint endpoint;
      endpoint.qpn = first_qpn + static_cast<uint32_t>(i);
      up.mutable_add_endpoints()->add_endpoints(
          verbs::EncodeEndpoint(endpoint));
    }
    if (absl::Status status = channel.Send(up.SerializeAsString());
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

v1::FastRequest RawInvokeRequest(const std::string& function,
                                 v1::InvokeRequest::Mode mode,
                                 const std::string& payload) {
  v1::FastRequest request;
  request.mutable_invoke()->mutable_header()->set_api_version(
      kControlApiVersion);
  request.mutable_invoke()->set_function(function);
  request.mutable_invoke()->set_mode(mode);
  request.mutable_invoke()->set_payload(payload);
  request.mutable_invoke()->set_timeout_ms(20000);
  return request;
}

RawAcceptor::RawAcceptor(SeqpacketSocket* channel)
    : channel_(channel), thread_([channel] { AnswerAccepts(channel); }) {}

RawAcceptor::~RawAcceptor() {
  shutdown(channel_->fd(), SHUT_RDWR);
  thread_.join();
}

void RawAcceptor::AnswerAccepts(SeqpacketSocket* channel) {
  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> message = channel->Receive();
    v1::ServiceDown down;
    if (!message.ok() || !down.ParseFromString(message->data)) {
      return;
    }
    if (down.has_accept()) {
      v1::ServiceUp up;
      up.mutable_accept_reply()->set_event_id(down.accept().event_id());
      (void)channel->Send(up.SerializeAsString());
    }
  }
}

}  // namespace swift::testing
