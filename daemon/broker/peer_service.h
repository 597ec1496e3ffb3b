// PeerServiceImpl: the Peer API (proto/peer.proto) on gRPC, served on TCP
// to other hosts' swiftds. A thin adapter: each method hands its request
// to the PeerHandler and maps the status to gRPC's.
//
// Thread-safe; handlers run concurrently on gRPC's threads.
#ifndef SWIFT_DAEMON_BROKER_PEER_SERVICE_H_
#define SWIFT_DAEMON_BROKER_PEER_SERVICE_H_

#include "daemon/broker/peer_handler.h"
#include "proto/peer.grpc.pb.h"

namespace swift {

class PeerServiceImpl final : public peer::v1::Peer::Service {
 public:
  // `handler` must outlive the service.
  explicit PeerServiceImpl(PeerHandler* handler) : handler_(handler) {}

  // Each answers with PeerHandler's namesake; Connect's deadline is the
  // call's.
  grpc::Status Hello(grpc::ServerContext* context,
                     const peer::v1::HelloRequest* request,
                     peer::v1::HelloResponse* response) override;
  grpc::Status Connect(grpc::ServerContext* context,
                       const peer::v1::ConnectRequest* request,
                       peer::v1::ConnectResponse* response) override;
  grpc::Status Close(grpc::ServerContext* context,
                     const peer::v1::CloseRequest* request,
                     peer::v1::CloseResponse* response) override;

 private:
  PeerHandler* const handler_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_SERVICE_H_
