// PeerServiceImpl: the Peer API (proto/peer.proto) on gRPC, served on TCP
// to other hosts' swiftds. A thin adapter: each method first asks the
// PeerGate whether the caller (its address, the credential in its
// metadata) may broker with us, then hands the request to the PeerHandler
// and maps the status to gRPC's. With the cluster's secret, a successful
// answer carries its MAC in the trailing metadata (kPeerReplyMetadata).
//
// Thread-safe; handlers run concurrently on gRPC's threads.
#ifndef SWIFT_DAEMON_BROKER_PEER_SERVICE_H_
#define SWIFT_DAEMON_BROKER_PEER_SERVICE_H_

#include <string>

#include "daemon/broker/peer_gate.h"
#include "daemon/broker/peer_handler.h"
#include "proto/peer.grpc.pb.h"

namespace swift {

class PeerServiceImpl final : public peer::v1::Peer::Service {
 public:
  // `handler` and `gate` must outlive the service.
  PeerServiceImpl(PeerHandler* handler, PeerGate* gate)
      : handler_(handler), gate_(gate) {}

  // Each answers with PeerHandler's namesake once the gate admitted the
  // call (else PERMISSION_DENIED or UNAUTHENTICATED); Connect's deadline
  // is the call's.
  grpc::Status Hello(grpc::ServerContext* context,
                     const peer::v1::HelloRequest* request,
                     peer::v1::HelloResponse* response) override;
  grpc::Status Connect(grpc::ServerContext* context,
                       const peer::v1::ConnectRequest* request,
                       peer::v1::ConnectResponse* response) override;
  grpc::Status Close(grpc::ServerContext* context,
                     const peer::v1::CloseRequest* request,
                     peer::v1::CloseResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const peer::v1::WatchRequest* request,
                     peer::v1::WatchResponse* response) override;

 private:
  // The gate's verdict; `nonce` is set to the credential's nonce.
  absl::Status Admit(const char* method,
                     const google::protobuf::Message& request,
                     const grpc::ServerContext& context, std::string* nonce);
  // Adds the MAC of a successful `reply` to `context`'s trailers.
  void SignReply(const char* method, const std::string& nonce,
                 const google::protobuf::Message& reply,
                 grpc::ServerContext* context) const;

  PeerHandler* const handler_;
  PeerGate* const gate_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_SERVICE_H_
