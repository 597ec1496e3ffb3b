// PeerLinkClient implementation; see peer_link_client.h.
#include "daemon/broker/peer_link_client.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "proto/wire_status.h"

namespace swift {
namespace {

// The time left until `deadline` as a request's timeout_ms.
uint32_t TimeoutMs(absl::Duration left) {
  return static_cast<uint32_t>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(left) + 1, 1, UINT32_MAX));
}

}  // namespace

absl::StatusOr<UniqueFd> PeerLinkClient::TakeConnection(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("no time left for the peer link call");
  }
  UniqueFd connection;
  if (std::optional<UniqueFd> idle = idle_.Take(); idle.has_value()) {
    connection = *std::move(idle);
  } else {
    absl::StatusOr<UniqueFd> fresh = ConnectTcp(address_);
    if (!fresh.ok()) {
      return fresh.status();
    }
    connection = *std::move(fresh);
  }
  // A dead peer must not hang the caller past its deadline.
  if (absl::Status timeout = SetIoTimeout(connection.get(), left);
      !timeout.ok()) {
    return timeout;
  }
  return connection;
}

absl::StatusOr<peer::v1::LinkResponse> PeerLinkClient::Call(
    peer::v1::LinkRequest request, absl::Time deadline) {
  absl::StatusOr<UniqueFd> connection = TakeConnection(deadline);
  if (!connection.ok()) {
    return connection.status();
  }
  request.set_timeout_ms(TimeoutMs(deadline - absl::Now()));
  if (absl::Status sent =
          SendFrame(connection->get(), request.SerializeAsString());
      !sent.ok()) {
    return sent;
  }
  absl::StatusOr<std::string> frame = RecvFrame(connection->get());
  if (!frame.ok()) {
    return frame.status();
  }
  peer::v1::LinkResponse response;
  if (!response.ParseFromString(*frame)) {
    return absl::InternalError("malformed peer link response");
  }
  idle_.Give(*std::move(connection));
  if (absl::Status answer = DecodeStatus(response); !answer.ok()) {
    return answer;
  }
  return response;
}

std::vector<absl::Status> PeerLinkClient::CallPipelined(
    std::vector<peer::v1::LinkRequest> requests, absl::Time deadline) {
  std::vector<absl::Status> statuses;
  statuses.reserve(requests.size());
  absl::StatusOr<UniqueFd> connection = TakeConnection(deadline);
  absl::Status transport = connection.status();
  size_t sent = 0;
  if (transport.ok()) {
    const uint32_t timeout_ms = TimeoutMs(deadline - absl::Now());
    for (; sent < requests.size() && transport.ok(); ++sent) {
      requests[sent].set_timeout_ms(timeout_ms);
      transport =
          SendFrame(connection->get(), requests[sent].SerializeAsString());
    }
    if (!transport.ok()) {
      --sent;  // That one may be half sent: its answer will not come.
    }
  }
  // Every request sent is answered, in order, even after a send failed.
  for (size_t answered = 0; answered < sent; ++answered) {
    absl::StatusOr<std::string> frame = RecvFrame(connection->get());
    if (!frame.ok()) {
      transport = frame.status();
      break;
    }
    peer::v1::LinkResponse response;
    if (!response.ParseFromString(*frame)) {
      transport = absl::InternalError("malformed peer link response");
      break;
    }
    statuses.push_back(DecodeStatus(response));
  }
  if (transport.ok()) {
    idle_.Give(*std::move(connection));
  }
  while (statuses.size() < requests.size()) {
    statuses.push_back(transport);
  }
  return statuses;
}

}  // namespace swift
