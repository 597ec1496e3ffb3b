// FastPathClient implementation; see fast_path_client.h.
#include "client/fast_path_client.h"

#include <sched.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/spin_slot.h"
#include "common/spin_wait.h"
#include "common/version.h"
#include "proto/wire_status.h"

namespace swift {

namespace {

// Sends `request` (serialized: `bytes`): through the lane when swiftd
// watches it and the call fits, ringing the doorbell on the socket if
// swiftd stopped watching meanwhile (common/call_lane.h); else on the
// socket, marked in the lane first for a swiftd that watches only there.
absl::Status SendCall(SeqpacketSocket& socket, CallLane* lane, uint64_t call_id,
                      const std::string& bytes) {
  if (lane == nullptr) {
    return socket.Send(bytes);
  }
  if (!lane->server_watching() || !lane->PostRequest(call_id, bytes)) {
    lane->PostRequestOnSocket(call_id);
    return socket.Send(bytes);
  }
  if (lane->server_watching()) {
    return absl::OkStatus();
  }
  v1::FastRequest doorbell;
  doorbell.set_call_id(call_id);
  doorbell.set_lane_doorbell(true);
  return socket.Send(doorbell.SerializeAsString());
}

// Watches the lane for the answer to `call_id`, at most `limit`. True: the
// answer is in `*answer`; false: it comes (or came) on the socket.
// A client that found its answer keeps watching: it looks at the lane
// first on its next call anyway, and clearing the flag now would make
// swiftd ring the doorbell for an answer already taken. It stops watching,
// then looks once more, only before it sleeps on the socket.
bool WatchForAnswer(CallLane& lane, uint64_t call_id, absl::Duration limit,
                    std::string* answer) {
  CallLane::Answer state = CallLane::Answer::kNotYet;
  if (const SpinSlot slot = SpinSlot::TryTake();
      slot.taken() && limit > absl::ZeroDuration()) {
    lane.set_client_watching(true);
    const absl::Time deadline = absl::Now() + limit;
    while ((state = lane.TakeAnswer(call_id, answer)) ==
               CallLane::Answer::kNotYet &&
           absl::Now() < deadline) {
      // swiftd's thread may be waiting for this very core (spin_wait.h).
      sched_yield();
    }
  }
  if (state == CallLane::Answer::kNotYet) {
    lane.set_client_watching(false);
    state = lane.TakeAnswer(call_id, answer);
  }
  return state == CallLane::Answer::kHere;
}

// The first half of an exchange: sends `request`. nullopt when it went;
// else what the exchange returns: swiftd's refusal as a response, or
// kUnavailable (the connection is then unusable).
std::optional<absl::StatusOr<v1::FastResponse>> SendRequest(
    SeqpacketSocket& socket, const v1::FastRequest& request, CallLane* lane) {
  absl::Status sent =
      SendCall(socket, lane, request.call_id(), request.SerializeAsString());
  if (sent.ok()) {
    return std::nullopt;
  }
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

// The second half: swiftd's answer to `request`, sent.
absl::StatusOr<v1::FastResponse> AwaitAnswer(SeqpacketSocket& socket,
                                             const v1::FastRequest& request,
                                             std::vector<UniqueFd>* fds,
                                             absl::Duration answer_spin,
                                             CallLane* lane) {
  // swiftd answers most calls within microseconds: watching for the
  // answer briefly saves this thread's wake-up (connects and invocations
  // take longer and sleep after the spin, which is bounded).
  std::string in_lane;
  v1::FastResponse response;
  if (lane != nullptr &&
      WatchForAnswer(*lane, request.call_id(), answer_spin, &in_lane)) {
    if (!response.ParseFromString(in_lane)) {
      return absl::InternalError("swiftd fast path: malformed response");
    }
    return response;
  }
  if (lane == nullptr) {
    SpinUntilReadable(socket.fd(), answer_spin);
  }
  std::optional<SeqpacketSocket::Message> message;
  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> received = socket.Receive();
    if (!received.ok()) {
      return absl::UnavailableError(
          absl::StrCat("swiftd fast path: ", received.status().message()));
    }
    if (!response.ParseFromString(received->data)) {
      return absl::InternalError("swiftd fast path: malformed response");
    }
    if (!response.lane_doorbell()) {
      message = *std::move(received);
      break;
    }
    // A doorbell: the answer is in the lane. One for an earlier call,
    // whose answer was taken from the lane already, is skipped.
    if (lane != nullptr && response.call_id() == request.call_id()) {
      if (lane->TakeAnswer(request.call_id(), &in_lane) !=
              CallLane::Answer::kHere ||
          !response.ParseFromString(in_lane)) {
        return absl::InternalError(
            "swiftd fast path: a doorbell for an answer not in the lane");
      }
      return response;
    }
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

// One exchange; fails only for transport problems (the connection is then
// unusable). swiftd's answer, error or not, comes back as a response.
// The fds attached to the answer go to `fds` when it is not null (else
// they are closed). `lane` is the connection's call lane, if it has one.
// `meanwhile`, if set, runs once the request went (or failed to).
absl::StatusOr<v1::FastResponse> Exchange(
    SeqpacketSocket& socket, const v1::FastRequest& request,
    std::vector<UniqueFd>* fds = nullptr,
    absl::Duration answer_spin = absl::ZeroDuration(), CallLane* lane = nullptr,
    std::optional<absl::FunctionRef<void()>> meanwhile = std::nullopt) {
  std::optional<absl::StatusOr<v1::FastResponse>> failed =
      SendRequest(socket, request, lane);
  if (meanwhile.has_value()) {
    (*meanwhile)();
  }
  if (failed.has_value()) {
    return *std::move(failed);
  }
  return AwaitAnswer(socket, request, fds, answer_spin, lane);
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

namespace {

// Connects to `path` and says `hello` (its version and pid filled in
// here); swiftd's reply in `*reply`, the fds attached to it in `*fds`.
absl::StatusOr<SeqpacketSocket> ConnectAndGreet(const std::string& path,
                                                v1::FastHello hello,
                                                v1::FastHelloReply* reply,
                                                std::vector<UniqueFd>* fds) {
  absl::StatusOr<SeqpacketSocket> socket = SeqpacketSocket::Connect(path);
  if (!socket.ok()) {
    return socket.status();
  }
  v1::FastRequest request;
  *request.mutable_hello() = std::move(hello);
  request.mutable_hello()->set_api_version(kControlApiVersion);
  request.mutable_hello()->set_pid(getpid());
  absl::StatusOr<v1::FastResponse> answer = CallOn(*socket, request, fds);
  if (!answer.ok()) {
    return answer.status();
  }
  *reply = answer->hello();
  return socket;
}

}  // namespace

absl::StatusOr<SeqpacketSocket> FastPathClient::OpenChannel(
    const std::string& path, const std::string& client_name,
    v1::FastHello::Channel kind, v1::FastHelloReply* reply,
    const std::string& function) {
  v1::FastHello hello;
  hello.set_client_name(client_name);
  hello.set_channel(kind);
  hello.set_function(function);
  v1::FastHelloReply answer;
  std::vector<UniqueFd> fds;
  absl::StatusOr<SeqpacketSocket> socket =
      ConnectAndGreet(path, std::move(hello), &answer, &fds);
  if (socket.ok() && reply != nullptr) {
    *reply = std::move(answer);
  }
  return socket;
}

absl::StatusOr<FastPathClient::CallsConnection>
FastPathClient::OpenCallsConnection(const std::string& path,
                                    const std::string& client_name,
                                    absl::Duration answer_spin,
                                    v1::FastHelloReply* reply) {
  v1::FastHello hello;
  hello.set_client_name(client_name);
  hello.set_channel(v1::FastHello::CALLS);
  // A lane serves only a client that watches for its answers.
  hello.set_lane(answer_spin > absl::ZeroDuration());
  v1::FastHelloReply answer;
  std::vector<UniqueFd> fds;
  absl::StatusOr<SeqpacketSocket> socket =
      ConnectAndGreet(path, std::move(hello), &answer, &fds);
  if (!socket.ok()) {
    return socket.status();
  }
  CallsConnection connection{*std::move(socket), std::nullopt};
  if (answer.lane() && fds.size() == 1) {
    // Without it the connection works as well, over the socket alone:
    // swiftd posts answers in the lane only while the client watches it.
    absl::StatusOr<CallLane> lane = CallLane::Map(std::move(fds[0]));
    if (lane.ok()) {
      connection.lane.emplace(*std::move(lane));
    } else {
      SWIFT_LOG_ONCE(Warning,
                     "swiftd fast path: calls go over the socket "
                     "alone: the call lane swiftd sent: ",
                     lane.status().message());
    }
  }
  if (reply != nullptr) {
    *reply = std::move(answer);
  }
  return connection;
}

absl::StatusOr<std::unique_ptr<FastPathClient>> FastPathClient::Connect(
    const std::string& path, const std::string& client_name,
    absl::Duration answer_spin) {
  v1::FastHelloReply hello;
  absl::StatusOr<CallsConnection> first =
      OpenCallsConnection(path, client_name, answer_spin, &hello);
  if (!first.ok()) {
    return first.status();
  }
  std::unique_ptr<FastPathClient> client(
      new FastPathClient(path, client_name, std::move(hello), answer_spin));
  client->idle_.Give(*std::move(first));
  return client;
}

absl::StatusOr<FastPathClient::CallsConnection>
FastPathClient::TakeConnection() {
  if (std::optional<CallsConnection> idle = idle_.Take(); idle.has_value()) {
    return *std::move(idle);
  }
  return OpenCallsConnection(path_, client_name_, answer_spin_, nullptr);
}

absl::StatusOr<v1::FastResponse> FastPathClient::Call(v1::FastRequest request) {
  return CallWithFds(std::move(request), nullptr);
}

absl::StatusOr<v1::FastResponse> FastPathClient::CallWithFds(
    v1::FastRequest request, std::vector<UniqueFd>* fds) {
  return CallOnIdle(std::move(request), fds, std::nullopt);
}

absl::StatusOr<v1::FastResponse> FastPathClient::CallAround(
    v1::FastRequest request, absl::FunctionRef<void()> meanwhile) {
  return CallOnIdle(std::move(request), nullptr, meanwhile);
}

absl::StatusOr<v1::FastResponse> FastPathClient::CallOnIdle(
    v1::FastRequest request, std::vector<UniqueFd>* fds,
    std::optional<absl::FunctionRef<void()>> meanwhile) {
  {
    absl::MutexLock lock(&mu_);
    request.set_call_id(next_call_id_++);
  }
  absl::StatusOr<CallsConnection> connection = TakeConnection();
  if (!connection.ok()) {
    if (meanwhile.has_value()) {
      (*meanwhile)();
    }
    return absl::UnavailableError(
        absl::StrCat("swiftd fast path: ", connection.status().message()));
  }
  std::vector<UniqueFd> received;
  absl::StatusOr<v1::FastResponse> response = Exchange(
      connection->socket, request, &received, answer_spin_,
      connection->lane.has_value() ? &*connection->lane : nullptr, meanwhile);
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
