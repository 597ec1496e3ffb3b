// Defaults libswift's calls share, named once.
//
// Thread-safe: constants only.
#ifndef SWIFT_CLIENT_INCLUDE_SWIFT_DEFAULTS_H_
#define SWIFT_CLIENT_INCLUDE_SWIFT_DEFAULTS_H_

#include "absl/time/time.h"

namespace swift {

// kDefaultCallTimeout
//
// How long a call waits when its caller names no timeout: the default of
// Session::Connect(), and how long an invocation whose timeout is zero may
// run before its instance is killed (swiftd and the function's worker apply
// the same 10 s).
inline constexpr absl::Duration kDefaultCallTimeout = absl::Seconds(10);

// kDefaultFastPathSpin
//
// How long a fast path call watches for swiftd's answer before its thread
// sleeps: most answers come within microseconds, and a thread that sleeps
// pays a wake-up (5-8 us on a small VM) on top. Calls that take longer (a
// brokered connect, an invocation) spin this long and then sleep. At most
// as many threads spin at once as the process has cores.
inline constexpr absl::Duration kDefaultFastPathSpin = absl::Microseconds(30);

}  // namespace swift

#endif  // SWIFT_CLIENT_INCLUDE_SWIFT_DEFAULTS_H_
