// SwiftdServer's local fast path (see swiftd_server.h): memory leases, and
// the fast-path server with the handlers that route its calls to the
// subsystems.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/devices/hello_port_address.h"
#include "daemon/swiftd_server.h"
#include "daemon/transport/socket_path.h"

namespace swift {
namespace {

std::string FirstOpenDevice(const DeviceCache& cache) {
  for (const DeviceCache::Entry& entry : cache.entries()) {
    if (entry.error.ok()) {
      return entry.name;
    }
  }
  return "";
}

}  // namespace

void SwiftdServer::StartLeases() {
  LeaseManager::Options lease_options = options_.leases;
  lease_options.check_device = [this](const std::string& device) {
    // The table, not the devices opened at start: it knows what vanished.
    const std::optional<DeviceRecord> record = devices_->table().Find(device);
    if (!record.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("lease: swiftd holds no RDMA device '", device,
                       "' (see swiftctl devices)"));
    }
    if (record->state == DeviceState::kOpen) {
      return absl::OkStatus();
    }
    return absl::Status(
        record->state == DeviceState::kRemoved
            ? absl::StatusCode::kUnavailable
            : absl::StatusCode::kFailedPrecondition,
        absl::StrCat("lease: RDMA device ", device,
                     " is not usable: ", record->error.message()));
  };
  leases_ = std::make_unique<LeaseManager>(std::move(lease_options));
  // Leases taken for a device that vanishes are marked for their holders
  // (LeaseManager::Check, swiftctl leases).
  lease_device_watch_ = std::make_unique<DeviceSubscription>(
      &devices_->table(), [leases = leases_.get()](const DeviceChange& change) {
        if (change.state == DeviceState::kRemoved) {
          leases->DeviceRemoved(change.device, change.what);
        }
      });
}

absl::Status SwiftdServer::StartFastPath() {
  fast_path_service_ = std::make_unique<FastPathService>(
      broker_.get(), workers_.get(), &services_, &connect_stats_);
  FastPathServer::Handlers handlers;
  handlers.call = [this](const FastPathCaller& caller,
                         const v1::FastRequest& request) {
    return fast_path_service_->Handle(caller, request);
  };
  fast_path_service_->SetLeases(leases_.get(), &clients_);
  fast_path_service_->SetDevices(devices_.get());
  handlers.call_with_fds = [this](const FastPathCaller& caller,
                                  const v1::FastRequest& request,
                                  std::vector<UniqueFd>* fds) {
    return fast_path_service_->HandleWithFds(caller, request, fds);
  };
  handlers.greeted = [this](const FastPathCaller& caller,
                            v1::FastHello::Channel kind) {
    fast_path_service_->Attached(caller, kind);
  };
  handlers.ended = [this](const FastPathCaller& caller,
                          v1::FastHello::Channel) {
    fast_path_service_->Detached(caller);
  };
  handlers.service = [this](SeqpacketSocket channel,
                            const FastPathCaller& caller) {
    services_.ServeChannel(std::move(channel), caller);
  };
  if (workers_ != nullptr) {
    handlers.function_channel = [this](const SeqpacketSocket& channel,
                                       const FastPathCaller& caller,
                                       const std::string& function) {
      return fast_path_service_->AttachFunctionChannel(channel, caller,
                                                       function);
    };
  }
  if (broker_ != nullptr) {
    handlers.disconnected = [this](const FastPathCaller& caller) {
      broker_->CloseAllOf(caller.channel_id);
    };
  }
  handlers.peer_address = options_.peer_address;
  handlers.device = FirstOpenDevice(*devices_);
  handlers.port_address = [this, device = handlers.device] {
    return HelloPortAddress(devices_->table(), device);
  };
  SWIFT_ASSIGN_OR_RETURN(
      fast_path_server_,
      FastPathServer::Start(fast_path_path_, options_.socket_mode,
                            std::move(handlers), options_.fast_path_limits));
  SWIFT_RETURN_IF_ERROR(SecureSocket(options_.socket_path, options_.socket_mode,
                                     options_.socket_group));
  SWIFT_RETURN_IF_ERROR(SecureSocket(fast_path_path_, options_.socket_mode,
                                     options_.socket_group));
  return absl::OkStatus();
}

}  // namespace swift
