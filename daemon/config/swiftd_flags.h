// swiftd's command-line flags. Every setting flag has a field of the same
// name in config::SwiftdConfig (proto/swiftd_config.proto), read through
// absl's flag reflection (effective_config.h), so only the two flags that
// are not settings are declared here.
#ifndef SWIFT_DAEMON_CONFIG_SWIFTD_FLAGS_H_
#define SWIFT_DAEMON_CONFIG_SWIFTD_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"

// The config file; the default one may be missing, a named one may not.
ABSL_DECLARE_FLAG(std::string, config);
// Non-empty: validate this config file (with the flags on top) and exit.
ABSL_DECLARE_FLAG(std::string, check_config);

namespace swift {

// Where swiftd looks for its config file when --config is not given.
inline constexpr char kDefaultConfigPath[] = "/etc/swift/swiftd.conf";

// The value --check_config takes when given without one: the --config file.
inline constexpr char kCheckTheConfigFlagFile[] = "-";

}  // namespace swift

#endif  // SWIFT_DAEMON_CONFIG_SWIFTD_FLAGS_H_
