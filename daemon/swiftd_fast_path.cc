// SwiftdServer's local fast path (see swiftd_server.h): memory leases,
// shared device contexts, and the fast-path server with the handlers that
// route its calls to the subsystems.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/contexts/verbs_shared_context.h"
#include "daemon/devices/hello_port_address.h"
#include "daemon/swiftd_server.h"
#include "daemon/transport/socket_path.h"
#include "glog/logging.h"

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

// OK when `device` is open in `table` (and, with `must_share`, its
// provider can import a context: DeviceRecord::CanShareContext), else the
// status `call` answers: kNotFound, kUnavailable (removed) or
// kFailedPrecondition with the reason.
absl::Status CheckDevice(const DeviceTable& table, absl::string_view call,
                         const std::string& device, bool must_share) {
  // The table, not the devices opened at start: it knows what vanished.
  const std::optional<DeviceRecord> record = table.Find(device);
  if (!record.has_value()) {
    return absl::NotFoundError(
        absl::StrCat(call, ": swiftd holds no RDMA device '", device,
                     "' (see swiftctl devices)"));
  }
  if (record->state != DeviceState::kOpen) {
    return absl::Status(
        record->state == DeviceState::kRemoved
            ? absl::StatusCode::kUnavailable
            : absl::StatusCode::kFailedPrecondition,
        absl::StrCat(call, ": RDMA device ", device,
                     " is not usable: ", record->error.message()));
  }
  if (must_share && !record->CanShareContext()) {
    return absl::FailedPreconditionError(absl::StrCat(
        call, ": ", device, "'s provider (", record->driver,
        ") cannot import a context (", record->context_import.detail,
        "); open the device instead"));
  }
  return absl::OkStatus();
}

// The devices whose contexts may be shared now.
std::vector<std::string> SharableDevices(const DeviceTable& table) {
  std::vector<std::string> devices;
  for (const DeviceRecord& record : table.Snapshot()) {
    if (record.CanShareContext()) {
      devices.push_back(record.name);
    }
  }
  return devices;
}

}  // namespace

void SwiftdServer::StartSharedContexts() {
  ContextManager::Options context_options = options_.contexts;
  context_options.open = OpenVerbsSharedContext;
  context_options.check_device = [this](const std::string& device) {
    return CheckDevice(devices_->table(), "share_context", device,
                       /*must_share=*/true);
  };
  // Which way clients get their contexts, device by device, in the log:
  // the fallback on providers without import (rxe) is the common case.
  for (const DeviceRecord& record : devices_->table().Snapshot()) {
    if (record.state != DeviceState::kOpen) continue;
    if (record.CanShareContext()) {
      LOG(INFO) << record.name << ": clients import swiftd's contexts ("
                << context_options.pool_per_device << " kept ready)";
    } else {
      LOG(INFO) << record.name << ": clients open contexts of their own ("
                << record.driver
                << " cannot import: " << record.context_import.detail << ")";
    }
  }
  contexts_ = std::make_unique<ContextManager>(std::move(context_options));
  contexts_->SetPooledDevices(SharableDevices(devices_->table()));
  // Pools follow the devices that can share; swiftd's copies of contexts
  // on a vanished device are closed.
  context_device_watch_ = std::make_unique<DeviceSubscription>(
      &devices_->table(), [this](const DeviceChange& change) {
        if (change.state == DeviceState::kRemoved) {
          contexts_->DeviceRemoved(change.device);
        }
        contexts_->SetPooledDevices(SharableDevices(devices_->table()));
      });
}

void SwiftdServer::StartLeases() {
  LeaseManager::Options lease_options = options_.leases;
  lease_options.check_device = [this](const std::string& device) {
    return CheckDevice(devices_->table(), "lease", device,
                       /*must_share=*/false);
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
  fast_path_service_->SetLeases(leases_.get(), &clients_, contexts_.get());
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
