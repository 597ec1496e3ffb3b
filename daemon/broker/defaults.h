// The broker's defaults, named once.
//
// kDefaultHandshakeTimeout: how long a brokered connect (or a peer call
// that carries no timeout of its own) may take end to end when the caller
// did not say: the Broker's default and the peer link server's fallback
// when a LinkRequest has no timeout_ms.
#ifndef SWIFT_DAEMON_BROKER_DEFAULTS_H_
#define SWIFT_DAEMON_BROKER_DEFAULTS_H_

#include "absl/time/time.h"

namespace swift {

inline constexpr absl::Duration kDefaultHandshakeTimeout = absl::Seconds(10);

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_DEFAULTS_H_
