// Checks the Control API version a request says it speaks.
#ifndef SWIFT_DAEMON_TRANSPORT_API_VERSION_H_
#define SWIFT_DAEMON_TRANSPORT_API_VERSION_H_

#include "absl/status/status.h"
#include "proto/swift.pb.h"

namespace swift {

// CheckApiVersion()
//
// OK when `header.api_version` is one this swiftd speaks. A missing header
// or version 0 is kInvalidArgument (every client sets it); any other
// unsupported version is kFailedPrecondition naming both versions.
absl::Status CheckApiVersion(const v1::RequestHeader& header);

}  // namespace swift

#endif  // SWIFT_DAEMON_TRANSPORT_API_VERSION_H_
