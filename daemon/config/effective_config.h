// The settings swiftd runs with: each flag's default, the config file on
// top, and the flags given on the command line on top of both. Flags and
// config fields share their names; absl's flag reflection carries the
// values across, so a new setting needs only its flag and its field.
#ifndef SWIFT_DAEMON_CONFIG_EFFECTIVE_CONFIG_H_
#define SWIFT_DAEMON_CONFIG_EFFECTIVE_CONFIG_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/config/config_file.h"
#include "proto/swiftd_config.pb.h"

namespace swift {

struct EffectiveConfig {
  // Every field set.
  config::SwiftdConfig config;
  // The config file read, "" when none.
  std::string file;
  // Where each setting that is not a default came from: "--NAME" (the
  // command line) or "PATH:LINE:COLUMN" (the file).
  absl::flat_hash_map<std::string, std::string> origins;

  // How an error names `field`: "PATH:L:C: NAME", "--NAME" or "NAME".
  std::string Describe(absl::string_view field) const;
};

// MergeConfig()
//
// The flags' values (given or default) with `file`'s fields in place of
// the defaults; null `file`: the flags alone. kInternal if a config field
// has no flag of its name or a flag's value does not fit its field (a
// programming error the tests catch).
absl::StatusOr<EffectiveConfig> MergeConfig(const ConfigFile* file);

// LoadEffectiveConfig()
//
// Reads `path` (none when empty) and merges it. A missing file is an
// error only if `required`; otherwise swiftd runs on its flags.
absl::StatusOr<EffectiveConfig> LoadEffectiveConfig(const std::string& path,
                                                    bool required);

// True when `name` was given on the command line (or in a --flagfile).
bool GivenOnCommandLine(absl::string_view name);

}  // namespace swift

#endif  // SWIFT_DAEMON_CONFIG_EFFECTIVE_CONFIG_H_
