// PeerServiceImpl: the Peer API (proto/peer.proto) this swiftd serves to
// other hosts' swiftds on TCP. A thin adapter over ServiceRegistry.
//
// Thread-safe; handlers run concurrently on gRPC's threads.
#ifndef SWIFT_DAEMON_BROKER_PEER_SERVICE_H_
#define SWIFT_DAEMON_BROKER_PEER_SERVICE_H_

#include <string>
#include <vector>

#include "daemon/broker/service_registry.h"
#include "proto/peer.grpc.pb.h"

namespace swift {

class PeerServiceImpl final : public peer::v1::Peer::Service {
 public:
  // `registry` must outlive the service. `devices` describe this host.
  PeerServiceImpl(uint64_t incarnation, std::string address,
                  std::vector<peer::v1::PeerDevice> devices,
                  ServiceRegistry* registry);

  grpc::Status Hello(grpc::ServerContext* context,
                     const peer::v1::HelloRequest* request,
                     peer::v1::HelloResponse* response) override;
  grpc::Status Connect(grpc::ServerContext* context,
                       const peer::v1::ConnectRequest* request,
                       peer::v1::ConnectResponse* response) override;
  grpc::Status Close(grpc::ServerContext* context,
                     const peer::v1::CloseRequest* request,
                     peer::v1::CloseResponse* response) override;

  // The same calls without gRPC, for the lean peer link.
  absl::StatusOr<peer::v1::ConnectResponse> HandleConnect(
      const peer::v1::ConnectRequest& request, absl::Time deadline);
  absl::Status HandleClose(const peer::v1::CloseRequest& request);

  // The link's port, announced in Hello (0: none). Set before serving.
  void set_link_port(uint16_t port) { link_port_ = port; }

 private:
  // OK when the caller speaks our API version and expects this incarnation.
  absl::Status CheckCaller(uint32_t api_version,
                           uint64_t expected_incarnation) const;

  const uint64_t incarnation_;
  const std::string address_;
  const std::vector<peer::v1::PeerDevice> devices_;
  ServiceRegistry* const registry_;
  uint16_t link_port_ = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_SERVICE_H_
