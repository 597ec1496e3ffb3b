// What a config reload changes: the settings whose value differs, and
// which of them swiftd applies while it runs (SwiftdServer::
// ApplyLiveOptions and the log level) and which wait for a restart.
#ifndef SWIFT_DAEMON_CONFIG_CONFIG_CHANGES_H_
#define SWIFT_DAEMON_CONFIG_CONFIG_CHANGES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/swiftd_config.pb.h"

namespace swift {

struct ConfigChange {
  std::string setting;
  // The values as the config file writes them; lists comma-separated.
  std::string before;
  std::string after;
  bool live = false;
};

// True for the settings a reload applies at once: the log level, the
// peers' names and allow-list, the handshake admission limits and the
// per-tenant quotas.
bool IsLiveSetting(absl::string_view setting);

// The settings whose value differs between `before` and `after`, in the
// config message's order.
std::vector<ConfigChange> DiffConfigs(const config::SwiftdConfig& before,
                                      const config::SwiftdConfig& after);

// What runs after a reload from `before` to `after`: the live settings of
// `after`, the others of `before` (they wait for a restart, and the next
// reload reports them again).
config::SwiftdConfig RunningAfterReload(const config::SwiftdConfig& before,
                                        const config::SwiftdConfig& after);

}  // namespace swift

#endif  // SWIFT_DAEMON_CONFIG_CONFIG_CHANGES_H_
