// FastPathClient implementation; see fast_path_client.h.
#include "client/fast_path_client.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/spin_wait.h"
#include "common/version.h"
#include "proto/wire_status.h"

namespace swift {

namespace {

// One exchange; fails only for transport problems (the connection is then
// unusable). swiftd's answer, error or not, comes back as a response.
// The fds attached to the answer go to `fds` when it is not null (else
// they are closed).
absl::StatusOr<v1::FastResponse> Exchange(
    SeqpacketSocket& socket, const v1::FastRequest& request,
    std::vector<UniqueFd>* fds = nullptr,
    absl::Duration answer_spin = absl::ZeroDuration()) {
  if (absl::Status sent = socket.Send(request.SerializeAsString());
      !sent.ok()) {
    // swiftd may have refused the connection (too many, out of
    // descriptors) and closed it: its reason is still queued for us.
    if (absl::IsUnavailable(sent)) {
      absl::StatusOr<SeqpacketSocket::Message> refusal = socket.Receive();
      v1::FastResponse response;
      if (refusal.ok() && response.ParseFromString(refusal->data) &&
          response.code() != 0) {
        return response;
      }
    }
    return absl::UnavailableError(
        absl::StrCat("swiftd fast path: ", sent.message()));
  }
  // swiftd answers most calls within microseconds: watching for the
  // answer briefly saves this thread's wake-up (connects and invocations
  // take longer and sleep after the spin, which is bounded).
  SpinUntilReadable(socket.fd(), answer_spin);
  absl::StatusOr<SeqpacketSocket::Message> message = socket.Receive();
  if (!message.ok()) {
    return absl::UnavailableError(
        absl::StrCat("swiftd fast path: ", message.status().message()));
  }
  v1::FastResponse response;
  if (!response.ParseFromString(message->data)) {
    return absl::InternalError("swiftd fast path: malformed response");
  }
  if (response.call_id() != request.call_id()) {
    return absl::InternalError(
        absl::StrCat("swiftd fast path: response to call ", response.call_id(),
                     " while waiting for ", request.call_id()));
  }
  if (fds != nullptr) {
    *fds = std::move(message->fds);
  }
  return response;
}

// swiftd's answer, or the status it answered with.
absl::StatusOr<v1::FastResponse> AnswerStatus(v1::FastResponse response) {
  if (absl::Status answered = DecodeStatus(response); !answered.ok()) {
    return answered;
  }
  return response;
}

}  // namespace

absl::StatusOr<v1::FastResponse> CallOn(SeqpacketSocket& socket,
                                        const v1::FastRequest& request,
                                        std::vector<UniqueFd>* fds) {
  std::vector<UniqueFd> received;
  absl::StatusOr<v1::FastResponse> response =
      Exchange(socket, request, &received);
  if (!response.ok()) {
    return response.status();
  }
  absl::StatusOr<v1::FastResponse> answer = AnswerStatus(*std::move(response));
  if (answer.ok() && fds != nullptr) {
    *fds = std::move(received);
  }
  return answer;
}

absl::StatusOr<SeqpacketSocket> FastPathClient::OpenChannel(
    const std::string& path, const std::string& client_name,
    v1::FastHello::Channel kind, v1::FastHelloReply* reply,
    const std::string& function) {
  absl::StatusOr<SeqpacketSocket> socket = SeqpacketSocket::Connect(path);
  if (!socket.ok()) {
    return socket.status();
  }
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_client_name(client_name);
  hello.mutable_hello()->set_pid(getpid());
  hello.mutable_hello()->set_channel(kind);
  hello.mutable_hello()->set_function(function);
  absl::StatusOr<v1::FastResponse> answer = CallOn(*socket, hello);
  if (!answer.ok()) {
    return answer.status();
  }
  if (reply != nullptr) {
    *reply = answer->hello();
  }
  return socket;
}

absl::StatusOr<std::unique_ptr<FastPathClient>> FastPathClient::Connect(
    const std::string& path, const std::string& client_name,
    absl::Duration answer_spin) {
  v1::FastHelloReply hello;
  absl::StatusOr<SeqpacketSocket> first =
      OpenChannel(path, client_name, v1::FastHello::CALLS, &hello);
  if (!first.ok()) {
    return first.status();
  }
  std::unique_ptr<FastPathClient> client(
      new FastPathClient(path, client_name, std::move(hello), answer_spin));
  client->idle_.Give(*std::move(first));
  return client;
}

absl::StatusOr<SeqpacketSocket> FastPathClient::TakeConnection() {
  if (std::optional<SeqpacketSocket> idle = idle_.Take(); idle.has_value()) {
    return *std::move(idle);
  }
  return OpenChannel(path_, client_name_, v1::FastHello::CALLS);
}

absl::StatusOr<v1::FastResponse> FastPathClient::Call(v1::FastRequest request) {
  return CallWithFds(std::move(request), nullptr);
}

absl::StatusOr<v1::FastResponse> FastPathClient::CallWithFds(
    v1::FastRequest request, std::vector<UniqueFd>* fds) {
  {
    absl::MutexLock lock(&mu_);
    request.set_call_id(next_call_id_++);
  }
  absl::StatusOr<SeqpacketSocket> connection = TakeConnection();
  if (!connection.ok()) {
    return absl::UnavailableError(
        absl::StrCat("swiftd fast path: ", connection.status().message()));
  }
  std::vector<UniqueFd> received;
  absl::StatusOr<v1::FastResponse> response =
      Exchange(*connection, request, &received, answer_spin_);
  if (!response.ok()) {
    // The connection is broken: dropped, not returned.
    return response.status();
  }
  idle_.Give(*std::move(connection));
  absl::StatusOr<v1::FastResponse> answer = AnswerStatus(*std::move(response));
  if (answer.ok() && fds != nullptr) {
    *fds = std::move(received);
  }
  return answer;
}

}  // namespace swift
