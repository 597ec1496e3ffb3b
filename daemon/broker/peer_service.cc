// PeerServiceImpl implementation; see peer_service.h.
#include "daemon/broker/peer_service.h"

#include <utility>

#include "daemon/broker/peer_answer.h"
#include "daemon/broker/peer_authenticator.h"

namespace swift {

absl::Status PeerServiceImpl::Admit(const char* method,
                                    const google::protobuf::Message& request,
                                    const grpc::ServerContext& context,
                                    std::string* nonce) {
  const auto& metadata = context.client_metadata();
  const auto sent = metadata.find(kPeerCredentialMetadata);
  peer::v1::PeerCredential credential;
  if (sent != metadata.end() &&
      !credential.ParseFromArray(sent->second.data(),
                                 static_cast<int>(sent->second.size()))) {
    credential.Clear();  // Refused as malformed.
  }
  *nonce = credential.nonce();
  return gate_->Admit(method, request,
                      sent != metadata.end() ? &credential : nullptr,
                      IpAddress::FromGrpcPeer(context.peer()));
}

void PeerServiceImpl::SignReply(const char* method, const std::string& nonce,
                                const google::protobuf::Message& reply,
                                grpc::ServerContext* context) const {
  if (gate_->secure()) {
    context->AddTrailingMetadata(
        kPeerReplyMetadata,
        gate_->authenticator()->SignReply(method, nonce, reply));
  }
}

grpc::Status PeerServiceImpl::Hello(grpc::ServerContext* context,
                                    const peer::v1::HelloRequest* request,
                                    peer::v1::HelloResponse* response) {
  std::string nonce;
  if (absl::Status admitted =
          Admit(kPeerHelloMethod, *request, *context, &nonce);
      !admitted.ok()) {
    return ToPeerGrpc(admitted);
  }
  absl::StatusOr<peer::v1::HelloResponse> hello = handler_->Hello(*request);
  if (hello.ok()) {
    *response = *std::move(hello);
    SignReply(kPeerHelloMethod, nonce, *response, context);
  }
  return ToPeerGrpc(hello.status());
}

grpc::Status PeerServiceImpl::Connect(grpc::ServerContext* context,
                                      const peer::v1::ConnectRequest* request,
                                      peer::v1::ConnectResponse* response) {
  std::string nonce;
  if (absl::Status admitted =
          Admit(kPeerConnectMethod, *request, *context, &nonce);
      !admitted.ok()) {
    return ToPeerGrpc(admitted);
  }
  absl::StatusOr<peer::v1::ConnectResponse> connected = handler_->Connect(
      *request, absl::FromChrono(context->deadline()),
      PeerHandler::CallerOf(IpAddress::FromGrpcPeer(context->peer())));
  if (connected.ok()) {
    *response = *std::move(connected);
    SignReply(kPeerConnectMethod, nonce, *response, context);
  }
  return ToPeerGrpc(connected.status());
}

grpc::Status PeerServiceImpl::Close(grpc::ServerContext* context,
                                    const peer::v1::CloseRequest* request,
                                    peer::v1::CloseResponse* response) {
  std::string nonce;
  if (absl::Status admitted =
          Admit(kPeerCloseMethod, *request, *context, &nonce);
      !admitted.ok()) {
    return ToPeerGrpc(admitted);
  }
  absl::Status closed = handler_->Close(
      *request,
      PeerHandler::CallerOf(IpAddress::FromGrpcPeer(context->peer())));
  if (closed.ok()) {
    SignReply(kPeerCloseMethod, nonce, *response, context);
  }
  return ToPeerGrpc(closed);
}

grpc::Status PeerServiceImpl::Watch(grpc::ServerContext* context,
                                    const peer::v1::WatchRequest* request,
                                    peer::v1::WatchResponse* response) {
  std::string nonce;
  if (absl::Status admitted =
          Admit(kPeerWatchMethod, *request, *context, &nonce);
      !admitted.ok()) {
    return ToPeerGrpc(admitted);
  }
  absl::StatusOr<peer::v1::WatchResponse> watched = handler_->Watch(
      *request,
      PeerHandler::CallerOf(IpAddress::FromGrpcPeer(context->peer())));
  if (watched.ok()) {
    *response = *std::move(watched);
    SignReply(kPeerWatchMethod, nonce, *response, context);
  }
  return ToPeerGrpc(watched.status());
}

}  // namespace swift
