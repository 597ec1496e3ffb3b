// FastPathClient implementation; see fast_path_client.h.
#include "client/fast_path_client.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/version.h"

namespace swift {

absl::StatusOr<std::unique_ptr<FastPathClient>> FastPathClient::Connect(
    const std::string& path, const std::string& client_name) {
  absl::StatusOr<SeqpacketSocket> socket = SeqpacketSocket::Connect(path);
  if (!socket.ok()) {
    return socket.status();
  }
  std::unique_ptr<FastPathClient> client(
      new FastPathClient(*std::move(socket)));
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_client_name(client_name);
  hello.mutable_hello()->set_pid(getpid());
  absl::StatusOr<v1::FastResponse> reply = client->Call(std::move(hello));
  if (!reply.ok()) {
    return reply.status();
  }
  return client;
}

absl::StatusOr<v1::FastResponse> FastPathClient::Call(v1::FastRequest request) {
  absl::MutexLock lock(&mu_);
  const uint64_t call_id = next_call_id_++;
  request.set_call_id(call_id);
  if (absl::Status sent = socket_.Send(request.SerializeAsString());
      !sent.ok()) {
    return absl::UnavailableError(
        absl::StrCat("swiftd fast path: ", sent.message()));
  }
  absl::StatusOr<SeqpacketSocket::Message> message = socket_.Receive();
  if (!message.ok()) {
    return absl::UnavailableError(
        absl::StrCat("swiftd fast path: ", message.status().message()));
  }
  v1::FastResponse response;
  if (!response.ParseFromString(message->data)) {
    return absl::InternalError("swiftd fast path: malformed response");
  }
  if (response.call_id() != call_id) {
    return absl::InternalError(absl::StrCat(
        "swiftd fast path: response to call ", response.call_id(),
        " while waiting for ", call_id));
  }
  if (response.code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(response.code()),
                        response.message());
  }
  return response;
}

}  // namespace swift
