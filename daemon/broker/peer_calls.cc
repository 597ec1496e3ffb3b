// Calls to another host's swiftd; see peer_calls.h.
#include "daemon/broker/peer_calls.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/broker/peer_answer.h"

namespace swift {
namespace {

// An error `peer` answered, in its words (e.g. "service went away"),
// naming the host that said it, and still marked as an answer.
absl::Status Answered(const absl::Status& answer, const std::string& peer) {
  return MarkPeerAnswer(absl::Status(
      answer.code(), absl::StrCat("swiftd on ", peer, ": ", answer.message())));
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& peer) {
  absl::Status answered = FromPeerGrpc(status);
  if (IsPeerAnswer(answered)) {
    return Answered(answered, peer);
  }
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  if (code == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat(
        "swiftd on ", peer, " is unreachable: ", status.error_message()));
  }
  if (code == absl::StatusCode::kDeadlineExceeded) {
    return absl::DeadlineExceededError(
        absl::StrCat("swiftd on ", peer, " did not answer in time"));
  }
  return absl::Status(code, status.error_message());
}

}  // namespace

absl::Status FromLinkStatus(const absl::Status& status,
                            const std::string& peer) {
  if (IsPeerAnswer(status)) {
    return Answered(status, peer);
  }
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    absl::Status named(status.code(),
                       absl::StrCat("swiftd on ", peer, ": ", status.message()));
    // Its marks too: a call that never left (MarkNotReached) is retried by
    // the Broker. Losing the mark here made a connect fail "connection
    // refused" after a peer restart (preconnect_rdma_test, in the guest).
    status.ForEachPayload(
        [&named](absl::string_view url, const absl::Cord& payload) {
          named.SetPayload(url, payload);
        });
    return named;
  }
  return status;
}

bool PeerMayNotHaveHeard(const absl::Status& status) {
  return !IsPeerAnswer(status) &&
         (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status));
}

namespace {

// One call on the peer's link when it has one, else on gRPC: `set` puts
// the request in a LinkRequest, `get` takes the answer out of the
// LinkResponse, `rpc` is the stub's method.
template <typename Request, typename Response, typename SetFn, typename GetFn,
          typename RpcFn>
absl::StatusOr<Response> CallPeer(const PeerDirectory::Peer& peer,
                                  const Request& request, absl::Time deadline,
                                  SetFn set, GetFn get, RpcFn rpc) {
  if (peer.link != nullptr) {
    peer::v1::LinkRequest link_request;
    *set(&link_request) = request;
    absl::StatusOr<peer::v1::LinkResponse> response =
        peer.link->Call(std::move(link_request), deadline);
    if (!response.ok()) {
      return FromLinkStatus(response.status(), peer.address);
    }
    return get(*response);
  }
  Response response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  grpc::Status status = rpc(*peer.stub, &context, request, &response);
  if (!status.ok()) {
    return FromGrpc(status, peer.address);
  }
  return response;
}

}  // namespace

absl::StatusOr<peer::v1::ConnectResponse> CallPeerConnect(
    const PeerDirectory::Peer& peer, const peer::v1::ConnectRequest& request,
    absl::Time deadline) {
  return CallPeer<peer::v1::ConnectRequest, peer::v1::ConnectResponse>(
      peer, request, deadline,
      [](peer::v1::LinkRequest* link) { return link->mutable_connect(); },
      [](const peer::v1::LinkResponse& link) { return link.connect(); },
      [](peer::v1::Peer::Stub& stub, grpc::ClientContext* context,
         const peer::v1::ConnectRequest& call,
         peer::v1::ConnectResponse* answer) {
        return stub.Connect(context, call, answer);
      });
}

absl::StatusOr<peer::v1::WatchResponse> CallPeerWatch(
    const PeerDirectory::Peer& peer, const peer::v1::WatchRequest& request,
    absl::Time deadline) {
  return CallPeer<peer::v1::WatchRequest, peer::v1::WatchResponse>(
      peer, request, deadline,
      [](peer::v1::LinkRequest* link) { return link->mutable_watch(); },
      [](const peer::v1::LinkResponse& link) { return link.watch(); },
      [](peer::v1::Peer::Stub& stub, grpc::ClientContext* context,
         const peer::v1::WatchRequest& call, peer::v1::WatchResponse* answer) {
        return stub.Watch(context, call, answer);
      });
}

absl::Status CallPeerClose(const PeerDirectory::Peer& peer,
                           const peer::v1::CloseRequest& request,
                           absl::Time deadline) {
  if (peer.link != nullptr) {
    peer::v1::LinkRequest link_request;
    *link_request.mutable_close() = request;
    return FromLinkStatus(
        peer.link->Call(std::move(link_request), deadline).status(),
        peer.address);
  }
  peer::v1::CloseResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  return FromGrpc(peer.stub->Close(&context, request, &response), peer.address);
}

}  // namespace swift
