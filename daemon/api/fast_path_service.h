// FastPathService: answers the fast path's calls (after the hello, which
// the transport handles). Thread-safe: calls arrive on many connections.
#ifndef SWIFT_DAEMON_API_FAST_PATH_SERVICE_H_
#define SWIFT_DAEMON_API_FAST_PATH_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "common/seqpacket_socket.h"
#include "daemon/api/listings.h"
#include "daemon/broker/broker.h"
#include "daemon/broker/service_registry.h"
#include "daemon/functions/function_access.h"
#include "daemon/functions/worker_manager.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/fast_path.pb.h"

namespace swift {

class FastPathService final {
 public:
  // `broker` may be null (no peer API): connects are then refused;
  // `workers` may be null (no worker binary): invocations are refused;
  // `services` (listings only) may be null. All must outlive the service.
  FastPathService(Broker* broker, WorkerManager* workers,
                  const ServiceRegistry* services = nullptr)
      : broker_(broker),
        workers_(workers),
        listings_(services, broker, workers) {}
  FastPathService(const FastPathService&) = delete;
  FastPathService& operator=(const FastPathService&) = delete;

  // Handle()
  //
  // Answers `request`; a call this swiftd does not know is kUnimplemented.
  v1::FastResponse Handle(const FastPathCaller& caller,
                          const v1::FastRequest& request);

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
  // Register and unregister, authorized by the caller's credentials.
  v1::FastResponse ManageFunction(const FastPathCaller& caller,
                                  const v1::FastRequest& request);

  // The listings, answered for the caller (root: everyone's).
  v1::FastResponse List(const FastPathCaller& caller,
                        const v1::FastRequest& request) const;

  Broker* const broker_;
  WorkerManager* const workers_;
  const Listings listings_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_FAST_PATH_SERVICE_H_
