// The config file: swiftd's settings in protobuf text format
// (config::SwiftdConfig), read with protobuf's TextFormat so that every
// error names its line and column, and where each field was set is kept
// for the errors found later (a value out of range).
#ifndef SWIFT_DAEMON_CONFIG_CONFIG_FILE_H_
#define SWIFT_DAEMON_CONFIG_CONFIG_FILE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "proto/swiftd_config.pb.h"

namespace swift {

struct ConfigFile {
  std::string path;
  config::SwiftdConfig config;
  // Field name -> "PATH:LINE:COLUMN" (1-based) of where the file sets it
  // (its first entry, for a repeated field).
  absl::flat_hash_map<std::string, std::string> locations;
};

// Whether `config` sets `field`: a singular field present, a repeated one
// with an entry.
bool SettingIsSet(const config::SwiftdConfig& config,
                  const google::protobuf::FieldDescriptor* field);

// LoadConfigFile()
//
// Reads and parses `path`. kNotFound when it does not exist,
// kPermissionDenied or kFailedPrecondition when it cannot be read (or is
// not a regular file), kInvalidArgument listing every syntax error, unknown
// field and bad value as "PATH:LINE:COLUMN: what", one per line.
absl::StatusOr<ConfigFile> LoadConfigFile(const std::string& path);

// The same for text already read (for tests and --check_config on stdin).
absl::StatusOr<ConfigFile> ParseConfigText(const std::string& path,
                                           const std::string& text);

}  // namespace swift

#endif  // SWIFT_DAEMON_CONFIG_CONFIG_FILE_H_
