// ControlServiceImpl: the Control API (proto/swift.proto) served by swiftd.
//
// A thin adapter: it checks the API version, then answers from the device
// cache, the client registry and the peer directory. What tenants hold
// (services, connections, functions) and function management are served
// on the fast path only, where swiftd knows the caller (SO_PEERCRED);
// here they are refused with the reason. It uses gRPC's callback API, so
// an open Attach stream holds no thread. Thread-safe; handlers run
// concurrently.
#ifndef SWIFT_DAEMON_API_CONTROL_SERVICE_H_
#define SWIFT_DAEMON_API_CONTROL_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "daemon/api/client_registry.h"
#include "daemon/broker/peer_directory.h"
#include "daemon/devices/device_cache.h"
#include "proto/control_service.grpc.pb.h"

namespace swift {

class ControlServiceImpl final : public v1::Control::CallbackService {
 public:
  // What the service reports on. Every pointer must outlive the service;
  // the peer-related ones are null when swiftd brokers no peers. The
  // service must outlive the grpc::Server it is registered with.
  struct Sources {
    const DeviceCache* devices = nullptr;
    ClientRegistry* clients = nullptr;
    const PeerDirectory* peers = nullptr;
    std::string socket_path;
    std::string peer_address;
    uint64_t incarnation = 0;
  };

  explicit ControlServiceImpl(Sources sources);

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const v1::GetStatusRequest* request,
                                      v1::GetStatusResponse* response) override;

  grpc::ServerUnaryReactor* ListDevices(
      grpc::CallbackServerContext* context,
      const v1::ListDevicesRequest* request,
      v1::ListDevicesResponse* response) override;

  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const v1::PingRequest* request,
                                 v1::PingResponse* response) override;

  grpc::ServerWriteReactor<v1::AttachEvent>* Attach(
      grpc::CallbackServerContext* context,
      const v1::AttachRequest* request) override;

  grpc::ServerUnaryReactor* ListPeers(grpc::CallbackServerContext* context,
                                      const v1::ListPeersRequest* request,
                                      v1::ListPeersResponse* response) override;

  grpc::ServerUnaryReactor* ListServices(
      grpc::CallbackServerContext* context,
      const v1::ListServicesRequest* request,
      v1::ListServicesResponse* response) override;

  grpc::ServerUnaryReactor* ListConnections(
      grpc::CallbackServerContext* context,
      const v1::ListConnectionsRequest* request,
      v1::ListConnectionsResponse* response) override;

  grpc::ServerUnaryReactor* RegisterFunction(
      grpc::CallbackServerContext* context,
      const v1::RegisterFunctionRequest* request,
      v1::RegisterFunctionResponse* response) override;

  grpc::ServerUnaryReactor* Invoke(grpc::CallbackServerContext* context,
                                   const v1::InvokeRequest* request,
                                   v1::InvokeResponse* response) override;

  grpc::ServerUnaryReactor* UnregisterFunction(
      grpc::CallbackServerContext* context,
      const v1::UnregisterFunctionRequest* request,
      v1::UnregisterFunctionResponse* response) override;
  grpc::ServerUnaryReactor* ListWorkers(
      grpc::CallbackServerContext* context,
      const v1::ListWorkersRequest* request,
      v1::ListWorkersResponse* response) override;

 private:
  // Immutable after construction.
  const Sources sources_;
  const absl::Time start_time_;
  // Cached once: the device cache never changes after start.
  const v1::ListDevicesResponse device_list_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_CONTROL_SERVICE_H_
