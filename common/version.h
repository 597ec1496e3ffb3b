// Swift's release and wire-contract versions, shared by every process.
#ifndef SWIFT_COMMON_VERSION_H_
#define SWIFT_COMMON_VERSION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace swift {

// The release of swiftd, libswift and swiftctl.
inline constexpr char kSwiftVersion[] = "0.1.0";

// The Control API versions (proto/swift.proto) this build speaks. A request
// outside [kMinControlApiVersion, kControlApiVersion] is refused with
// FAILED_PRECONDITION naming both ranges.
inline constexpr uint32_t kControlApiVersion = 1;
inline constexpr uint32_t kMinControlApiVersion = 1;

// CheckApiVersion()
//
// The one check of the API version a caller says it speaks, on every
// transport (Control API over gRPC, the fast path's hello, the Peer API and
// the peer link). `caller` names the other side in messages ("client",
// "peer"). OK inside [kMinControlApiVersion, kControlApiVersion]; version 0
// (the field was not set: every Swift process sets it) is
// kInvalidArgument; any other version is kFailedPrecondition naming both
// ranges.
absl::Status CheckApiVersion(uint32_t version, absl::string_view caller);

// Where swiftd listens unless told otherwise (RuntimeDirectory=swift).
inline constexpr char kDefaultSocketPath[] = "/run/swift/swiftd.sock";

}  // namespace swift

#endif  // SWIFT_COMMON_VERSION_H_
