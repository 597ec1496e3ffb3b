// ControlServiceImpl implementation; see control_service.h.
#include "daemon/control_service.h"

#include <unistd.h>

#include "absl/synchronization/mutex.h"
#include "common/version.h"
#include "daemon/api_version.h"
#include "daemon/device_report.h"
#include "daemon/grpc_status.h"
#include "glog/logging.h"

namespace swift {
namespace {

grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// One open Attach stream: the client stays registered until the stream
// ends (client exit, cancel, or swiftd shutdown). gRPC's reactor API owns
// the object's lifetime through OnDone(), hence the `delete this`.
class AttachSession final : public grpc::ServerWriteReactor<v1::AttachEvent> {
 public:
  AttachSession(ClientRegistry* clients, const v1::AttachRequest& request)
      : clients_(clients),
        id_(clients->Add(request.header().client_name(), request.pid())) {
    VLOG(1) << "Client " << id_ << " attached: '"
            << request.header().client_name() << "' pid " << request.pid();
    welcome_.set_client_id(id_);
    StartWrite(&welcome_);
  }

  void OnWriteDone(bool ok) override {
    // After the welcome the stream stays open with nothing to send; a
    // failed write means the client is already gone.
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "client went away"));
    }
  }

  void OnCancel() override {
    FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "detached"));
  }

  void OnDone() override {
    clients_->Remove(id_);
    VLOG(1) << "Client " << id_ << " detached";
    delete this;
  }

 private:
  void FinishOnce(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (!finished_) {
      finished_ = true;
      Finish(status);
    }
  }

  ClientRegistry* const clients_;
  const uint64_t id_;
  v1::AttachEvent welcome_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// Refuses an Attach whose request is invalid.
class RejectedAttach final : public grpc::ServerWriteReactor<v1::AttachEvent> {
 public:
  explicit RejectedAttach(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

ControlServiceImpl::ControlServiceImpl(const DeviceCache* devices,
                                       ClientRegistry* clients,
                                       std::string socket_path)
    : devices_(devices),
      clients_(clients),
      socket_path_(std::move(socket_path)),
      start_time_(absl::Now()),
      device_list_(ListDevicesFromCache(*devices)) {}

grpc::ServerUnaryReactor* ControlServiceImpl::GetStatus(
    grpc::CallbackServerContext* context, const v1::GetStatusRequest* request,
    v1::GetStatusResponse* response) {
  if (absl::Status status = CheckApiVersion(request->header()); !status.ok()) {
    return FinishWith(context, status);
  }
  response->set_version(kSwiftVersion);
  response->set_api_version(kControlApiVersion);
  response->set_min_api_version(kMinControlApiVersion);
  response->set_uptime_us(absl::ToInt64Microseconds(absl::Now() - start_time_));
  response->set_pid(getpid());
  response->set_devices_count(devices_->open_count());
  response->set_devices_failed_count(devices_->failed_count());
  response->set_clients_count(clients_->Count());
  response->set_socket_path(socket_path_);
  response->set_start_time_unix_us(absl::ToUnixMicros(start_time_));
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ControlServiceImpl::ListDevices(
    grpc::CallbackServerContext* context,
    const v1::ListDevicesRequest* request, v1::ListDevicesResponse* response) {
  if (absl::Status status = CheckApiVersion(request->header()); !status.ok()) {
    return FinishWith(context, status);
  }
  *response = device_list_;
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ControlServiceImpl::Ping(
    grpc::CallbackServerContext* context, const v1::PingRequest* request,
    v1::PingResponse* response) {
  if (absl::Status status = CheckApiVersion(request->header()); !status.ok()) {
    return FinishWith(context, status);
  }
  response->set_sequence(request->sequence());
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerWriteReactor<v1::AttachEvent>* ControlServiceImpl::Attach(
    grpc::CallbackServerContext* context, const v1::AttachRequest* request) {
  if (absl::Status status = CheckApiVersion(request->header()); !status.ok()) {
    return new RejectedAttach(status);
  }
  return new AttachSession(clients_, *request);
}

}  // namespace swift
