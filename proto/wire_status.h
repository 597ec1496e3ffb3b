// The one encoding of an absl::Status on Swift's wires.
//
// Every reply message that can fail (fast path, peer link, worker protocol)
// carries the same pair of fields, `int32 code` (an absl::StatusCode, 0 for
// OK) and `string message`. EncodeStatus() and DecodeStatus() are the only
// places that map between the two, so that a code never changes meaning
// from one hop to the next. Any generated message with those two fields
// works; gRPC has its own mapping (daemon/transport/grpc_status.h).
#ifndef SWIFT_PROTO_WIRE_STATUS_H_
#define SWIFT_PROTO_WIRE_STATUS_H_

#include <string>

#include "absl/status/status.h"

namespace swift {

// EncodeStatus()
//
// Sets `reply`'s code and message from `status` (message cleared for OK).
template <typename Reply>
void EncodeStatus(const absl::Status& status, Reply* reply) {
  reply->set_code(static_cast<int>(status.code()));
  reply->set_message(status.ok() ? std::string() : std::string(status.message()));
}

// DecodeStatus()
//
// The status `reply` carries. A code outside absl's range becomes kUnknown
// (a newer peer's code is still an error, never OK).
template <typename Reply>
absl::Status DecodeStatus(const Reply& reply) {
  const int code = reply.code();
  if (code == 0) return absl::OkStatus();
  if (code < 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::UnknownError(reply.message());
  }
  return absl::Status(static_cast<absl::StatusCode>(code), reply.message());
}

}  // namespace swift

#endif  // SWIFT_PROTO_WIRE_STATUS_H_
