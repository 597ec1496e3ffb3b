// SwiftdHelp(); see swiftd_help.h.
#include "daemon/config/swiftd_help.h"

#include <iterator>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/config/config_changes.h"
#include "proto/swiftd_config.pb.h"

namespace swift {
namespace {

// Each group starts at a field number of config::SwiftdConfig and runs to
// the next (proto/swiftd_config.proto leaves gaps to grow into).
struct GroupStart {
  int first_field;
  const char* title;
};
constexpr GroupStart kGroups[] = {
    {1, "Local sockets"},
    {10, "Brokering with other hosts' swiftds"},
    {20, "Handshake admission"},
    {30, "Per-tenant quotas of the broker"},
    {40, "Functions and their workers"},
    {50, "Connection bounds (fast path, peer link, Control API)"},
    {70, "Memory leases and shared device contexts"},
    {80, "Operations"},
    {90, "The cluster's service directory"},
};

constexpr int kWidth = 78;
constexpr char kIndent[] = "      ";

// `text` folded into lines of at most kWidth columns after kIndent.
std::string Fold(const std::string& text) {
  std::string out;
  std::string line = kIndent;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (line.size() > sizeof(kIndent) - 1 &&
        line.size() + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, line, "\n");
      line = kIndent;
    }
    absl::StrAppend(&line, line.size() > sizeof(kIndent) - 1 ? " " : "", word);
  }
  absl::StrAppend(&out, line, "\n");
  return out;
}

}  // namespace

std::vector<SettingGroup> SwiftdSettingGroups() {
  std::vector<SettingGroup> groups = {
      {"Config file", {"config", "check_config"}}};
  const google::protobuf::Descriptor* descriptor =
      config::SwiftdConfig::descriptor();
  for (size_t g = 0; g < std::size(kGroups); ++g) {
    SettingGroup group{kGroups[g].title, {}};
    const int end =
        g + 1 < std::size(kGroups) ? kGroups[g + 1].first_field : 1 << 29;
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const int number = descriptor->field(i)->number();
      if (number >= kGroups[g].first_field && number < end) {
        group.flags.push_back(descriptor->field(i)->name());
      }
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

std::string SwiftdHelp() {
  std::string out =
      "swiftd: the Swift RDMA control-plane daemon.\n"
      "\n"
      "Usage: swiftd [--config=FILE] [--SETTING=VALUE ...]\n"
      "  or:  swiftd --check_config[=FILE] [--SETTING=VALUE ...]\n"
      "\n"
      "Every setting below is a flag and a field of the config file\n"
      "(protobuf text format, /etc/swift/swiftd.conf unless --config says\n"
      "otherwise): a flag given on the command line overrides the file.\n"
      "SIGHUP re-reads the file and applies the settings marked 'Live';\n"
      "the others need a restart. A new file with an error is refused and\n"
      "the running config kept. Logging: GLOG_log_dir=DIR for log files\n"
      "(default: stderr, which systemd's journal keeps).\n";
  for (const SettingGroup& group : SwiftdSettingGroups()) {
    absl::StrAppend(&out, "\n", group.title, ":\n");
    for (const std::string& name : group.flags) {
      const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      if (flag == nullptr) continue;  // swiftd_config_test catches this.
      const std::string value = flag->DefaultValue();
      absl::StrAppend(&out, "  --", name, "=", value.empty() ? "\"\"" : value,
                      "\n");
      std::string help = flag->Help();
      if (IsLiveSetting(name)) absl::StrAppend(&help, " Live.");
      absl::StrAppend(&out, Fold(help));
    }
  }
  return out;
}

}  // namespace swift
