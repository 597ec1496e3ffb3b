// FastPathService implementation; see fast_path_service.h.
#include "daemon/api/fast_path_service.h"

#include "absl/status/status.h"

namespace swift {

namespace {

void SetStatus(const absl::Status& status, v1::FastResponse& response) {
  response.set_code(static_cast<int>(status.code()));
  response.set_message(std::string(status.message()));
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
  if (caller.uid == FastPathCaller::kUnknownId) {
    SetStatus(absl::PermissionDeniedError(
                  "swiftd could not learn the caller's uid (SO_PEERCRED)"),
              response);
    return response;
  }
  const CallerCredentials credentials = {caller.uid, caller.gid};
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

v1::FastResponse FastPathService::Handle(const FastPathCaller& caller,
                                         const v1::FastRequest& request) {
  v1::FastResponse response;
  if ((request.call_case() == v1::FastRequest::kConnect ||
       request.call_case() == v1::FastRequest::kClose) &&
      broker_ == nullptr) {
    SetStatus(absl::FailedPreconditionError(
                  "this swiftd brokers no connections (start it with "
                  "--peer_address)"),
              response);
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
      absl::Status closed = broker_->Close(request.close().connection_id());
      if (closed.ok()) {
        response.mutable_close();
      } else {
        SetStatus(closed, response);
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
      // Runs on this connection's own thread: no hand-off to a pool.
      absl::StatusOr<v1::InvokeResponse> result =
          workers_->Invoke(request.invoke());
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
    case v1::FastRequest::kHello:
      response.set_code(
          static_cast<int>(absl::StatusCode::kFailedPrecondition));
      response.set_message("hello was already sent on this connection");
      return response;
    default:
      response.set_code(static_cast<int>(absl::StatusCode::kUnimplemented));
      response.set_message(
          "this swiftd does not know that fast path call (older version?)");
      return response;
  }
}

}  // namespace swift
