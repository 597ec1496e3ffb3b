// PeerLinkClient implementation; see peer_link_client.h.
#include "daemon/broker/peer_link_client.h"

#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "common/frame_io.h"
#include "daemon/broker/peer_answer.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

// The time left until `deadline` as a request's timeout_ms.
uint32_t TimeoutMs(absl::Duration left) {
  return static_cast<uint32_t>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(left) + 1, 1, UINT32_MAX));
}

// Whether the peer has closed (or reset) an idle connection: between calls
// a link connection carries nothing, so anything to read is its end. The
// peer closes connections idle for its --peer_link_idle_timeout, which may
// be shorter than the time this side keeps them; a request sent on such a
// connection would fail the caller's connect for nothing.
bool ClosedByPeer(int fd) {
  pollfd ready = {fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&ready, 1, 0) != 0;
}

}  // namespace

absl::StatusOr<UniqueFd> PeerLinkClient::TakeConnection(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("no time left for the peer link call");
  }
  UniqueFd connection;
  while (std::optional<UniqueFd> idle = idle_.Take()) {
    if (!ClosedByPeer(idle->get())) {
      connection = *std::move(idle);
      break;
    }
    ++idle_closed_by_peer_;  // `idle` closes here.
  }
  if (!connection.valid()) {
    absl::StatusOr<UniqueFd> fresh = ConnectTcp(address_);
    if (!fresh.ok()) {
      return MarkNotReached(fresh.status());
    }
    connection = *std::move(fresh);
  }
  return connection;
}

void PeerLinkClient::Prepare(uint32_t timeout_ms,
                             peer::v1::LinkRequest* request) const {
  request->set_timeout_ms(timeout_ms);
  const char* method = "";
  const google::protobuf::Message* call = LinkCall(*request, &method);
  if (signer_ != nullptr && call != nullptr) {
    *request->mutable_credential() = signer_->Sign(method, *call);
  }
}

absl::Status PeerLinkClient::CheckReply(
    const peer::v1::LinkRequest& request,
    const peer::v1::LinkResponse& response) const {
  if (signer_ == nullptr) {
    return absl::OkStatus();
  }
  const char* method = "";
  const google::protobuf::Message* call = LinkCall(request, &method);
  const google::protobuf::Message* result = LinkResult(response);
  if (call == nullptr || result == nullptr) {
    return absl::UnauthenticatedError(
        "the peer answered a successful call without its result");
  }
  return signer_->VerifyReply(method, request.credential().nonce(), *result,
                              response.mac());
}

absl::StatusOr<peer::v1::LinkResponse> PeerLinkClient::Call(
    peer::v1::LinkRequest request, absl::Time deadline) {
  absl::StatusOr<UniqueFd> connection = TakeConnection(deadline);
  if (!connection.ok()) {
    return connection.status();
  }
  Prepare(TimeoutMs(deadline - absl::Now()), &request);
  // A dead peer must not hang the caller past its deadline: every wait
  // below is bounded by it.
  if (absl::Status sent = SendFrameBefore(
          connection->get(), request.SerializeAsString(), deadline);
      !sent.ok()) {
    return sent;
  }
  FrameReader answers(connection->get());
  absl::StatusOr<std::string> frame = answers.NextBefore(deadline);
  if (!frame.ok()) {
    return frame.status();
  }
  // One answer per request: after more, the stream is not the protocol's,
  // and the connection goes once this answer is taken.
  const bool reusable = answers.buffered() == 0;
  peer::v1::LinkResponse response;
  if (!response.ParseFromString(*frame)) {
    return absl::InternalError("malformed peer link response");
  }
  if (absl::Status answer = DecodeStatus(response); !answer.ok()) {
    if (reusable) idle_.Give(*std::move(connection));
    // The peer's answer, not the transport's failure (peer_answer.h).
    return MarkPeerAnswer(std::move(answer));
  }
  if (absl::Status proven = CheckReply(request, response); !proven.ok()) {
    return proven;  // The connection goes: it does not reach our cluster.
  }
  if (reusable) idle_.Give(*std::move(connection));
  return response;
}

PeerLinkClient::Pipeline PeerLinkClient::SendPipelined(
    std::vector<peer::v1::LinkRequest> requests, absl::Time deadline) {
  Pipeline pipeline;
  pipeline.requests = std::move(requests);
  pipeline.deadline = deadline;
  absl::StatusOr<UniqueFd> connection = TakeConnection(deadline);
  if (!connection.ok()) {
    pipeline.transport = connection.status();
    return pipeline;
  }
  pipeline.connection = *std::move(connection);
  const uint32_t timeout_ms = TimeoutMs(deadline - absl::Now());
  for (peer::v1::LinkRequest& request : pipeline.requests) {
    Prepare(timeout_ms, &request);
    pipeline.transport = SendFrameBefore(pipeline.connection.get(),
                                         request.SerializeAsString(), deadline);
    if (!pipeline.transport.ok()) {
      break;  // That one may be half sent: its answer will not come.
    }
    ++pipeline.sent;
  }
  return pipeline;
}

std::vector<absl::Status> PeerLinkClient::Collect(Pipeline pipeline) {
  std::vector<absl::Status> statuses;
  statuses.reserve(pipeline.requests.size());
  absl::Status transport = pipeline.transport;
  // Every request sent is answered, in order, even after a send failed.
  FrameReader answers(pipeline.connection.get());
  for (size_t answered = 0; answered < pipeline.sent; ++answered) {
    absl::StatusOr<std::string> frame = answers.NextBefore(pipeline.deadline);
    if (!frame.ok()) {
      transport = frame.status();
      break;
    }
    peer::v1::LinkResponse response;
    if (!response.ParseFromString(*frame)) {
      transport = absl::InternalError("malformed peer link response");
      break;
    }
    absl::Status status = MarkPeerAnswer(DecodeStatus(response));
    if (status.ok()) {
      status = CheckReply(pipeline.requests[answered], response);
      if (!status.ok()) {
        transport = status;  // Not our cluster: nothing more is trusted.
        break;
      }
    }
    statuses.push_back(std::move(status));
  }
  // Not when it answered more than it was asked.
  if (transport.ok() && answers.buffered() == 0) {
    idle_.Give(std::move(pipeline.connection));
  }
  while (statuses.size() < pipeline.requests.size()) {
    statuses.push_back(transport);
  }
  return statuses;
}

}  // namespace swift
