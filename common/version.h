// Swift's release and wire-contract versions, shared by every process.
#ifndef SWIFT_COMMON_VERSION_H_
#define SWIFT_COMMON_VERSION_H_

#include <cstdint>

namespace swift {

// The release of swiftd, libswift and swiftctl.
inline constexpr char kSwiftVersion[] = "0.1.0";

// The Control API versions (proto/swift.proto) this build speaks. A request
// outside [kMinControlApiVersion, kControlApiVersion] is refused with
// FAILED_PRECONDITION naming both ranges.
inline constexpr uint32_t kControlApiVersion = 1;
inline constexpr uint32_t kMinControlApiVersion = 1;

// Where swiftd listens unless told otherwise (RuntimeDirectory=swift).
inline constexpr char kDefaultSocketPath[] = "/run/swift/swiftd.sock";

}  // namespace swift

#endif  // SWIFT_COMMON_VERSION_H_
