// ControlClient: libswift's connection to swiftd's Control API, typed in the
// API's own messages (proto/swift.proto). Internal to Swift.
//
// This is the one implementation of the calls to swiftd: gRPC on the Unix
// socket for management, the fast path (SOCK_SEQPACKET) for hot calls, and
// direct channels to function workers for WARM and FORK invocations.
// libswift's public Client (swift/client.h) wraps it and converts to plain
// types; swiftctl, tests and benchmarks use it directly for the management
// listings (devices, peers, services, connections, workers) that
// applications do not need, printed exactly as swiftd sent them.
//
// Thread-safe: one ControlClient may be used from many threads at once.
#ifndef SWIFT_CLIENT_CONTROL_CONTROL_CLIENT_H_
#define SWIFT_CLIENT_CONTROL_CONTROL_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/swift.pb.h"
#include "swift/client.h"

namespace swift {

class ControlClient {
 public:
  // Connect()
  //
  // As Client::Connect() (swift/client.h), with the same options and
  // errors; the caller owns the result.
  static absl::StatusOr<std::unique_ptr<ControlClient>> Connect(
      const ClientOptions& options = ClientOptions());

  virtual ~ControlClient() = default;

  // GetStatus(): swiftd's version, uptime, pid and counts.
  virtual absl::StatusOr<v1::GetStatusResponse> GetStatus() = 0;

  // ListDevices(): the RDMA devices swiftd holds open.
  virtual absl::StatusOr<v1::ListDevicesResponse> ListDevices() = 0;

  // ListIrqs(): the devices' completion-vector IRQs and the CPUs swiftd
  // pinned them to (`swiftctl irq`).
  virtual absl::StatusOr<v1::ListIrqsResponse> ListIrqs() = 0;
  // ListDirectory(): the cluster directory as swiftd sees it;
  // kFailedPrecondition when swiftd has none.
  virtual absl::StatusOr<v1::ListDirectoryResponse> ListDirectory() = 0;

  // ListPeers(), ListServices(), ListConnections(): what swiftd brokers
  // (see `swiftctl peers|services|connections`). Services, connections,
  // workers and tenants are listed on the fast path (kFailedPrecondition
  // without it), where swiftd knows the caller: root sees everyone's,
  // anyone else its own; pages are fetched until the listing is whole.
  virtual absl::StatusOr<v1::ListPeersResponse> ListPeers() = 0;
  virtual absl::StatusOr<v1::ListServicesResponse> ListServices() = 0;
  virtual absl::StatusOr<v1::ListConnectionsResponse> ListConnections() = 0;
  // ListTenants(): use against quota per tenant (`swiftctl tenants`).
  virtual absl::StatusOr<v1::ListTenantsResponse> ListTenants() = 0;

  // RegisterFunction(), Invoke(), ListWorkers(): functions run by swiftd's
  // workers (cold, warm, fork); see swift/function.h. Invoke blocks until
  // the function returns (its own timeout_ms bounds it). The statuses are
  // Client's (swift/client.h).
  virtual absl::StatusOr<v1::RegisterFunctionResponse> RegisterFunction(
      const v1::RegisterFunctionRequest& request) = 0;
  virtual absl::StatusOr<v1::InvokeResponse> Invoke(
      const v1::InvokeRequest& request) = 0;
  // UnregisterFunction(): stops the function's worker and forgets it.
  // Root, or the user the function runs as, may.
  virtual absl::StatusOr<v1::UnregisterFunctionResponse> UnregisterFunction(
      const std::string& name) = 0;
  virtual absl::StatusOr<v1::ListWorkersResponse> ListWorkers() = 0;

  // Ping(): one round trip to swiftd and back over `transport`; `sequence`
  // is echoed. kFailedPrecondition for kFastPath when it is not open.
  virtual absl::Status Ping(uint64_t sequence,
                            Transport transport = Transport::kFastPath) = 0;

  // Whether hot calls use the fast path.
  virtual bool has_fast_path() const = 0;

  // The id swiftd gave this client when it attached; 0 if not attached.
  virtual uint64_t client_id() const = 0;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_CONTROL_CONTROL_CLIENT_H_
