// ControlServiceImpl: the Control API (proto/swift.proto) served by swiftd.
//
// A thin adapter: it checks the API version, then answers from the device
// cache and the client registry. It uses gRPC's callback API, so an open
// Attach stream holds no thread. Thread-safe; handlers run concurrently.
#ifndef SWIFT_DAEMON_CONTROL_SERVICE_H_
#define SWIFT_DAEMON_CONTROL_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "daemon/client_registry.h"
#include "daemon/device_cache.h"
#include "proto/swift.grpc.pb.h"

namespace swift {

class ControlServiceImpl final : public v1::Control::CallbackService {
 public:
  // `devices` and `clients` must outlive the service, and the service must
  // outlive the grpc::Server it is registered with.
  ControlServiceImpl(const DeviceCache* devices, ClientRegistry* clients,
                     std::string socket_path);

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

 private:
  // Immutable after construction.
  const DeviceCache* const devices_;
  ClientRegistry* const clients_;
  const std::string socket_path_;
  const absl::Time start_time_;
  // Cached once: the device cache never changes after start.
  const v1::ListDevicesResponse device_list_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_CONTROL_SERVICE_H_
