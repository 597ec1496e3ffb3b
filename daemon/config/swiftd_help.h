// `swiftd --help`: every flag of swiftd's own, with its default and
// meaning, grouped as the config file groups its fields, and nothing of
// absl's or glog's (those stay in --helpfull). The man page swiftd(8) is
// made from it.
#ifndef SWIFT_DAEMON_CONFIG_SWIFTD_HELP_H_
#define SWIFT_DAEMON_CONFIG_SWIFTD_HELP_H_

#include <string>
#include <vector>

namespace swift {

struct SettingGroup {
  std::string title;
  std::vector<std::string> flags;
};

// The flags by group: --config and --check_config first, then each
// setting of config::SwiftdConfig under its group (by field number).
std::vector<SettingGroup> SwiftdSettingGroups();

// The text --help prints.
std::string SwiftdHelp();

}  // namespace swift

#endif  // SWIFT_DAEMON_CONFIG_SWIFTD_HELP_H_
