// FastPathService: answers the fast path's calls (after the hello, which
// the transport handles). Thread-safe: calls arrive on many connections.
#ifndef SWIFT_DAEMON_API_FAST_PATH_SERVICE_H_
#define SWIFT_DAEMON_API_FAST_PATH_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/seqpacket_socket.h"
#include "common/unique_fd.h"
#include "daemon/api/client_registry.h"
#include "daemon/api/lease_calls.h"
#include "daemon/api/listings.h"
#include "daemon/leases/lease_manager.h"
#include "daemon/broker/broker.h"
#include "daemon/broker/service_registry.h"
#include "daemon/devices/device_cache.h"
#include "daemon/functions/function_access.h"
#include "daemon/functions/worker_manager.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/fast_path.pb.h"

namespace swift {

class FastPathService final {
 public:
  // `broker` may be null (no peer API): connects are then refused;
  // `workers` may be null (no worker binary): invocations are refused;
  // `services` and `connects` (listings only) may be null. All must
  // outlive the service.
  FastPathService(Broker* broker, WorkerManager* workers,
                  const ServiceRegistry* services = nullptr,
                  const ConnectStats* connects = nullptr)
      : broker_(broker),
        workers_(workers),
        listings_(services, broker, workers, connects) {}
  FastPathService(const FastPathService&) = delete;
  FastPathService& operator=(const FastPathService&) = delete;

  // Handle()
  //
  // Answers `request`; a call this swiftd does not know is kUnimplemented.
  v1::FastResponse Handle(const FastPathCaller& caller,
                          const v1::FastRequest& request);

  // SetLeases()
  //
  // Serves the memory-lease calls from `leases` and the attached-clients
  // listing from `clients` (either may be null: lease calls are then
  // kUnimplemented). Call before the fast path serves; both must outlive
  // the service. Without it, lease calls are kUnimplemented.
  // `contexts` (may be null: share_context is then kUnimplemented) serves
  // the shared device contexts alike.
  void SetLeases(LeaseManager* leases, ClientRegistry* clients,
                 ContextManager* contexts = nullptr) {
    lease_calls_ = std::make_unique<LeaseCalls>(leases, clients, contexts);
  }

  // SetDevices()
  //
  // Serves DescribeDevices from `devices` (must outlive the service). Call
  // before the fast path serves; without it the call is kUnimplemented.
  void SetDevices(const DeviceCache* devices) { devices_ = devices; }

  // HandleWithFds()
  //
  // Handle(), and the calls whose answer may carry fds in `fds` (the
  // transport sends, then closes them): the lease and context calls
  // (LeaseCalls) and
  // watch_changes (the tenant's change page, Broker::WatchChanges).
  v1::FastResponse HandleWithFds(const FastPathCaller& caller,
                                 const v1::FastRequest& request,
                                 std::vector<UniqueFd>* fds);

  // A CALLS or SERVICE connection was greeted (Attached) or ended
  // (Detached: the leases and contexts it held are reclaimed); see
  // LeaseCalls.
  void Attached(const FastPathCaller& caller, v1::FastHello::Channel kind) {
    lease_calls_->Attached(caller, kind);
  }
  void Detached(const FastPathCaller& caller) {
    lease_calls_->Detached(caller);
  }

  // AttachFunctionChannel()
  //
  // Hands `channel` (a FUNCTION channel's connection) to `function`'s
  // worker if the caller may invoke the function (root or its user):
  // kPermissionDenied otherwise, kUnimplemented without workers, or
  // WorkerManager::AttachChannel()'s error.
  absl::Status AttachFunctionChannel(const SeqpacketSocket& channel,
                                     const FastPathCaller& caller,
                                     const std::string& function);

 private:
  v1::FastResponse WatchChanges(const FastPathCaller& caller,
                                std::vector<UniqueFd>* fds);
  // Register and unregister, authorized by the caller's credentials.
  v1::FastResponse ManageFunction(const FastPathCaller& caller,
                                  const v1::FastRequest& request);

  // The listings, answered for the caller (root: everyone's).
  v1::FastResponse List(const FastPathCaller& caller,
                        const v1::FastRequest& request) const;

  Broker* const broker_;
  WorkerManager* const workers_;
  const Listings listings_;
  // Set before serving (SetDevices), read-only after.
  const DeviceCache* devices_ = nullptr;
  // Set before serving (SetLeases), read-only after.
  std::unique_ptr<LeaseCalls> lease_calls_ =
      std::make_unique<LeaseCalls>(nullptr, nullptr);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_FAST_PATH_SERVICE_H_
