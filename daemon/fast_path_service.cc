// FastPathService implementation; see fast_path_service.h.
#include "daemon/fast_path_service.h"

#include "absl/status/status.h"

namespace swift {

v1::FastResponse FastPathService::Handle(const FastPathCaller& caller,
                                         const v1::FastRequest& request) {
  v1::FastResponse response;
  switch (request.call_case()) {
    case v1::FastRequest::kPing:
      response.mutable_ping()->set_sequence(request.ping().sequence());
      return response;
    case v1::FastRequest::kHello:
      response.set_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
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
