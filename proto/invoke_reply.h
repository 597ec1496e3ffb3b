// ToInvokeResponse(): a worker's InvokeReply (proto/worker.proto) as the
// Control API's answer to Invoke (proto/swift.proto). swiftd and the
// worker (at its direct channels' edge) both answer invocations from worker
// replies; this is the one mapping between the two contracts.
#ifndef SWIFT_PROTO_INVOKE_REPLY_H_
#define SWIFT_PROTO_INVOKE_REPLY_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/swift.pb.h"
#include "proto/worker.pb.h"

namespace swift {

// The response, or the reply's error status with its message prefixed by
// "function 'NAME': ". total_us is the worker's time; a caller that
// measured more (swiftd) sets its own.
absl::StatusOr<v1::InvokeResponse> ToInvokeResponse(
    const worker::v1::InvokeReply& reply, const std::string& function);

}  // namespace swift

#endif  // SWIFT_PROTO_INVOKE_REPLY_H_
