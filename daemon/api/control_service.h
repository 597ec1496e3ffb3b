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

#include <grpcpp/server_builder.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "daemon/api/client_registry.h"
#include "daemon/broker/peer_directory.h"
#include "daemon/broker/peer_gate.h"
#include "daemon/devices/device_cache.h"
#include "daemon/directory/directory.h"
#include "daemon/irq/irq_affinity.h"
#include "proto/control_service.grpc.pb.h"

namespace swift {

// What the Control API's gRPC server allows (issue 10: any local user who
// can reach swiftd.sock could open thousands of gRPC connections and
// streams, each holding memory and, for Attach, a client entry). gRPC 1.51
// has no cap on incoming connections; these bound what it offers:
struct ControlApiLimits {
  // Attach streams open at once, all connections together
  // (--max_attach_streams); one more is refused with RESOURCE_EXHAUSTED
  // naming the flag. Unary calls answer at once and hold nothing.
  int max_attach_streams = 1024;
  // Concurrent streams per connection (HTTP/2 SETTINGS,
  // GRPC_ARG_MAX_CONCURRENT_STREAMS; --grpc_max_streams_per_connection):
  // a client's extra calls wait in the client, none reaches swiftd.
  int max_streams_per_connection = 100;
  // A connection with no call in progress is closed after this
  // (GRPC_ARG_MAX_CONNECTION_IDLE_MS; --grpc_max_connection_idle), so that
  // idle connections do not pile up.
  absl::Duration max_connection_idle = absl::Minutes(5);
  // gRPC's memory for connections and calls (grpc::ResourceQuota;
  // --grpc_memory_quota_mb): under pressure gRPC refuses new calls with
  // RESOURCE_EXHAUSTED instead of swiftd growing.
  int64_t memory_quota_bytes = int64_t{256} << 20;
  // Threads gRPC may start for its servers (ResourceQuota::SetMaxThreads;
  // --grpc_max_threads).
  int max_threads = 64;
};

// ConfigureControlServer(): sets `limits`' channel arguments and resource
// quota on `builder` (the Control API's, before BuildAndStart()).
void ConfigureControlServer(const ControlApiLimits& limits,
                            grpc::ServerBuilder* builder);

class ControlServiceImpl final : public v1::Control::CallbackService {
 public:
  // What the service reports on. Every pointer must outlive the service;
  // the peer-related ones are null when swiftd brokers no peers. The
  // service must outlive the grpc::Server it is registered with.
  struct Sources {
    const DeviceCache* devices = nullptr;
    ClientRegistry* clients = nullptr;
    const PeerDirectory* peers = nullptr;
    // Its refusal counters per peer and in total; may be null.
    const PeerGate* gate = nullptr;
    std::string socket_path;
    std::string peer_address;
    uint64_t incarnation = 0;
    // Attach streams open at once at most (ControlApiLimits).
    int max_attach_streams = ControlApiLimits().max_attach_streams;
    // The completion-vector IRQs swiftd pinned (ListIrqs); may be null.
    const IrqAffinity* irqs = nullptr;
    // The cluster directory (ListDirectory); null without --directory.
    const Directory* directory = nullptr;
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

  grpc::ServerUnaryReactor* ListIrqs(grpc::CallbackServerContext* context,
                                     const v1::ListIrqsRequest* request,
                                     v1::ListIrqsResponse* response) override;

  grpc::ServerUnaryReactor* ListDirectory(
      grpc::CallbackServerContext* context,
      const v1::ListDirectoryRequest* request,
      v1::ListDirectoryResponse* response) override;

 private:
  // Immutable after construction.
  const Sources sources_;
  const absl::Time start_time_;
  // Attach streams open now; shared with each session, which gives its
  // place back when gRPC is done with it (possibly after the service).
  const std::shared_ptr<std::atomic<int>> attach_streams_ =
      std::make_shared<std::atomic<int>>(0);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_CONTROL_SERVICE_H_
