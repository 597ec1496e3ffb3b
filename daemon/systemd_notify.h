// The systemd notify protocol (sd_notify(3)), without linking libsystemd.
//
// A Type=notify service tells systemd it is ready by sending "READY=1" as a
// datagram to the socket named in $NOTIFY_SOCKET. Thread-safe.
#ifndef SWIFT_DAEMON_SYSTEMD_NOTIFY_H_
#define SWIFT_DAEMON_SYSTEMD_NOTIFY_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace swift {

// NotifySystemd()
//
// Sends `state` (e.g. "READY=1\nSTATUS=Serving") to $NOTIFY_SOCKET. When
// the variable is unset (not run by systemd) it does nothing and returns
// OK. Paths starting with '@' are abstract sockets. Errors carry errno.
absl::Status NotifySystemd(absl::string_view state);

}  // namespace swift

#endif  // SWIFT_DAEMON_SYSTEMD_NOTIFY_H_
