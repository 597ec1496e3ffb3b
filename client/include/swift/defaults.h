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

}  // namespace swift

#endif  // SWIFT_CLIENT_INCLUDE_SWIFT_DEFAULTS_H_
