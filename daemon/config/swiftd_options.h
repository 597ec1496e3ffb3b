// From settings to a SwiftdOptions: every value checked, every error
// collected (not only the first), each naming where the value was set
// (the file's line and column, or the flag), so that `swiftd
// --check_config` and a SIGHUP report the whole list at once.
#ifndef SWIFT_DAEMON_CONFIG_SWIFTD_OPTIONS_H_
#define SWIFT_DAEMON_CONFIG_SWIFTD_OPTIONS_H_

#include "absl/status/statusor.h"
#include "daemon/config/effective_config.h"
#include "daemon/swiftd_server.h"

namespace swift {

// SwiftdOptionsFromConfig()
//
// kInvalidArgument listing each bad value, one per line ("PATH:L:C:
// max_handshakes must be at least 1, got 0"; "--socket_mode must be ...").
// Reads --peer_secret_file's file (its errors are listed the same way).
// Leaves worker_binary empty when not set (main.cc finds the default).
absl::StatusOr<SwiftdOptions> SwiftdOptionsFromConfig(
    const EffectiveConfig& settings);

}  // namespace swift

#endif  // SWIFT_DAEMON_CONFIG_SWIFTD_OPTIONS_H_
