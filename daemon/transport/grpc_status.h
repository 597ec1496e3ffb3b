// absl::Status -> grpc::Status, the one conversion swiftd's services use.
//
// Both code tables mirror google.rpc.Code, so the code crosses unchanged.
#ifndef SWIFT_DAEMON_TRANSPORT_GRPC_STATUS_H_
#define SWIFT_DAEMON_TRANSPORT_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace swift {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace swift

#endif  // SWIFT_DAEMON_TRANSPORT_GRPC_STATUS_H_
