// PeerServiceImpl implementation; see peer_service.h.
#include "daemon/broker/peer_service.h"

#include <utility>

#include "daemon/transport/grpc_status.h"

namespace swift {

grpc::Status PeerServiceImpl::Hello(grpc::ServerContext* context,
                                    const peer::v1::HelloRequest* request,
                                    peer::v1::HelloResponse* response) {
  absl::StatusOr<peer::v1::HelloResponse> hello = handler_->Hello(*request);
  if (hello.ok()) {
    *response = *std::move(hello);
  }
  return ToGrpcStatus(hello.status());
}

grpc::Status PeerServiceImpl::Connect(grpc::ServerContext* context,
                                      const peer::v1::ConnectRequest* request,
                                      peer::v1::ConnectResponse* response) {
  absl::StatusOr<peer::v1::ConnectResponse> connected =
      handler_->Connect(*request, absl::FromChrono(context->deadline()));
  if (connected.ok()) {
    *response = *std::move(connected);
  }
  return ToGrpcStatus(connected.status());
}

grpc::Status PeerServiceImpl::Close(grpc::ServerContext* context,
                                    const peer::v1::CloseRequest* request,
                                    peer::v1::CloseResponse* response) {
  return ToGrpcStatus(handler_->Close(*request));
}

}  // namespace swift
