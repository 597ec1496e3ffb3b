// FastPathService implementation; see fast_path_service.h.
#include "daemon/api/fast_path_service.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "daemon/devices/device_report.h"
#include "proto/wire_status.h"

namespace swift {

namespace {

// The answer to the broker's calls when this swiftd has no broker.
absl::Status NoBroker() {
  return absl::FailedPreconditionError(
      "this swiftd brokers no connections (start it with --peer_address)");
}

void SetStatus(const absl::Status& status, v1::FastResponse& response) {
  EncodeStatus(status, &response);
}

// The kernel's word on who calls (SO_PEERCRED), which every function
// operation is decided on; kPermissionDenied when swiftd could not learn it.
absl::StatusOr<CallerCredentials> CredentialsOf(const FastPathCaller& caller) {
  if (caller.uid == FastPathCaller::kUnknownId) {
    return absl::PermissionDeniedError(
        "swiftd could not learn the caller's uid (SO_PEERCRED)");
  }
  return CallerCredentials{caller.uid, caller.gid};
}

}  // namespace

v1::FastResponse FastPathService::ManageFunction(
    const FastPathCaller& caller, const v1::FastRequest& request) {
  v1::FastResponse response;
  if (workers_ == nullptr) {
    SetStatus(absl::UnimplementedError("this swiftd runs no function workers"),
              response);
    return response;
  }
  absl::StatusOr<CallerCredentials> known = CredentialsOf(caller);
  if (!known.ok()) {
    SetStatus(known.status(), response);
    return response;
  }
  const CallerCredentials credentials = *known;
  if (request.has_unregister_function()) {
    absl::StatusOr<v1::UnregisterFunctionResponse> stopped =
        workers_->Unregister(
            request.unregister_function().name(),
            [&](const v1::RegisterFunctionRequest& registered) {
              return AuthorizeUnregistration(credentials, registered);
            });
    if (stopped.ok()) {
      *response.mutable_unregister_function() = *std::move(stopped);
    } else {
      SetStatus(stopped.status(), response);
    }
    return response;
  }
  v1::RegisterFunctionRequest registration = request.register_function();
  absl::Status allowed = AuthorizeRegistration(credentials, registration);
  absl::StatusOr<v1::RegisterFunctionResponse> registered =
      allowed.ok() ? workers_->Register(registration)
                   : absl::StatusOr<v1::RegisterFunctionResponse>(allowed);
  if (registered.ok()) {
    *response.mutable_register_function() = *std::move(registered);
  } else {
    SetStatus(registered.status(), response);
  }
  return response;
}

absl::Status FastPathService::AttachFunctionChannel(
    const SeqpacketSocket& channel, const FastPathCaller& caller,
    const std::string& function) {
  if (workers_ == nullptr) {
    return absl::UnimplementedError("this swiftd runs no function workers");
  }
  SWIFT_ASSIGN_OR_RETURN(CallerCredentials credentials, CredentialsOf(caller));
  return workers_->AttachChannel(
      function, channel, caller.client_name, caller.pid,
      [&](const v1::RegisterFunctionRequest& spec) {
        return AuthorizeInvocation(credentials, spec);
      });
}

v1::FastResponse FastPathService::List(const FastPathCaller& caller,
                                       const v1::FastRequest& request) const {
  v1::FastResponse response;
  switch (request.call_case()) {
    case v1::FastRequest::kListServices:
      *response.mutable_list_services() =
          listings_.Services(caller, request.list_services().offset());
      break;
    case v1::FastRequest::kListConnections:
      *response.mutable_list_connections() =
          listings_.Connections(caller, request.list_connections().offset());
      break;
    case v1::FastRequest::kListWorkers:
      *response.mutable_list_workers() =
          listings_.Workers(caller, request.list_workers().offset());
      break;
    default:
      *response.mutable_list_tenants() =
          listings_.Tenants(caller, request.list_tenants().offset());
      break;
  }
  return response;
}

v1::FastResponse FastPathService::HandleWithFds(const FastPathCaller& caller,
                                                const v1::FastRequest& request,
                                                std::vector<UniqueFd>* fds) {
  if (LeaseCalls::Handles(request)) {
    return lease_calls_->Handle(caller, request, fds);
  }
  if (request.call_case() == v1::FastRequest::kWatchChanges) {
    return WatchChanges(caller, fds);
  }
  return Handle(caller, request);
}

v1::FastResponse FastPathService::WatchChanges(const FastPathCaller& caller,
                                               std::vector<UniqueFd>* fds) {
  v1::FastResponse response;
  if (broker_ == nullptr) {
    SetStatus(NoBroker(), response);
    return response;
  }
  absl::StatusOr<ChangeBoard::Shared> shared = broker_->WatchChanges(caller);
  if (!shared.ok()) {
    SetStatus(shared.status(), response);
    return response;
  }
  response.mutable_watch_changes()->set_generation(shared->generation);
  fds->push_back(std::move(shared->fd));
  return response;
}

v1::FastResponse FastPathService::Handle(const FastPathCaller& caller,
                                         const v1::FastRequest& request) {
  v1::FastResponse response;
  if ((request.call_case() == v1::FastRequest::kConnect ||
       request.call_case() == v1::FastRequest::kClose ||
       request.call_case() == v1::FastRequest::kCheckConnections) &&
      broker_ == nullptr) {
    SetStatus(NoBroker(), response);
    return response;
  }
  switch (request.call_case()) {
    case v1::FastRequest::kConnect: {
      absl::StatusOr<v1::ConnectResult> result =
          broker_->Connect(caller, request.connect());
      if (result.ok()) {
        *response.mutable_connect() = *std::move(result);
      } else {
        SetStatus(result.status(), response);
      }
      return response;
    }
    case v1::FastRequest::kClose: {
      // Checked against the caller: ids are sequential, easily guessed.
      absl::Status closed =
          broker_->Close(caller, request.close().connection_id());
      if (closed.ok()) {
        response.mutable_close();
      } else {
        SetStatus(closed, response);
      }
      return response;
    }
    case v1::FastRequest::kCheckConnections: {
      absl::StatusOr<v1::CheckConnectionsResult> checked =
          broker_->CheckConnections(caller, request.check_connections());
      if (checked.ok()) {
        *response.mutable_check_connections() = *std::move(checked);
      } else {
        SetStatus(checked.status(), response);
      }
      return response;
    }
    case v1::FastRequest::kRegisterFunction:
    case v1::FastRequest::kUnregisterFunction:
      return ManageFunction(caller, request);
    case v1::FastRequest::kInvoke: {
      if (workers_ == nullptr) {
        SetStatus(
            absl::UnimplementedError("this swiftd runs no function workers"),
            response);
        return response;
      }
      absl::StatusOr<CallerCredentials> credentials = CredentialsOf(caller);
      if (!credentials.ok()) {
        SetStatus(credentials.status(), response);
        return response;
      }
      // Runs on this connection's own thread: no hand-off to a pool.
      absl::StatusOr<v1::InvokeResponse> result = workers_->Invoke(
          request.invoke(), [&](const v1::RegisterFunctionRequest& spec) {
            return AuthorizeInvocation(*credentials, spec);
          });
      if (result.ok()) {
        *response.mutable_invoke() = *std::move(result);
      } else {
        SetStatus(result.status(), response);
      }
      return response;
    }
    case v1::FastRequest::kPing:
      response.mutable_ping()->set_sequence(request.ping().sequence());
      return response;
    case v1::FastRequest::kDescribeDevices:
      // Host-level facts, the same for every caller: no tenant filter.
      if (devices_ == nullptr) {
        SetStatus(absl::UnimplementedError("this swiftd has no device cache"),
                  response);
      } else {
        *response.mutable_describe_devices() = DescribeDevices(*devices_);
      }
      return response;
    case v1::FastRequest::kListServices:
    case v1::FastRequest::kListConnections:
    case v1::FastRequest::kListWorkers:
    case v1::FastRequest::kListTenants:
      return List(caller, request);
    case v1::FastRequest::kHello:
      SetStatus(absl::FailedPreconditionError(
                    "hello was already sent on this connection"),
                response);
      return response;
    case v1::FastRequest::kWatchChanges: {
      // Its answer's fd is the point: HandleWithFds() sends it; here it
      // is dropped with the vector.
      std::vector<UniqueFd> fds;
      return WatchChanges(caller, &fds);
    }
    default:
      SetStatus(absl::UnimplementedError(
                    "this swiftd does not know that fast path call (older "
                    "version?)"),
                response);
      return response;
  }
}

}  // namespace swift
