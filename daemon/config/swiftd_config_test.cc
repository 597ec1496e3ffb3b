// Tests of swiftd's settings: flags, config fields and --help agree; the
// config file's errors carry line and column; flags override the file;
// values are checked with their origin; a reload applies only the live
// settings.
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "common/testing/command_testing.h"
#include "daemon/config/config_changes.h"
#include "daemon/config/config_file.h"
#include "daemon/config/effective_config.h"
#include "daemon/config/swiftd_flags.h"
#include "daemon/config/swiftd_help.h"
#include "daemon/config/swiftd_options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// swiftd's own flags: those defined in daemon/config/.
std::vector<std::string> SwiftdFlagNames() {
  std::vector<std::string> names;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "daemon/config/")) {
      names.push_back(std::string(name));
    }
  }
  return names;
}

TEST(SwiftdSettingsTest, EveryFlagIsAConfigFieldAndEveryFieldAFlag) {
  const google::protobuf::Descriptor* descriptor =
      config::SwiftdConfig::descriptor();
  const std::vector<std::string> flags = SwiftdFlagNames();
  ASSERT_GT(flags.size(), 40u);
  for (const std::string& name : flags) {
    if (name == "config" || name == "check_config") continue;
    EXPECT_NE(descriptor->FindFieldByName(name), nullptr)
        << "--" << name << " has no field in proto/swiftd_config.proto";
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    EXPECT_NE(absl::FindCommandLineFlag(descriptor->field(i)->name()), nullptr)
        << "config field " << descriptor->field(i)->name() << " has no flag";
  }
}

TEST(SwiftdSettingsTest, HelpListsEveryFlagOnceWithItsDefault) {
  const std::string help = SwiftdHelp();
  for (const std::string& name : SwiftdFlagNames()) {
    const std::string line = "\n  --" + name + "=";
    const size_t at = help.find(line);
    ASSERT_NE(at, std::string::npos) << "--help does not list --" << name;
    EXPECT_EQ(help.find(line, at + 1), std::string::npos) << name;
  }
  EXPECT_THAT(help, HasSubstr("\n  --max_handshakes=32\n"));
  EXPECT_THAT(help, HasSubstr("\n  --socket_group=\"\"\n"));
  EXPECT_THAT(help, HasSubstr("Handshake admission:\n"));
  EXPECT_THAT(help, Not(HasSubstr("No flags matched")));
  // Every group has something in it.
  for (const SettingGroup& group : SwiftdSettingGroups()) {
    EXPECT_FALSE(group.flags.empty()) << group.title;
  }
}

TEST(ConfigFileTest, ReadsEveryKindOfField) {
  absl::StatusOr<ConfigFile> file =
      ParseConfigText("swiftd.conf",
                      "# comments are fine\n"
                      "max_handshakes: 16\n"
                      "peers: \"b=10.0.0.2:7471\"\n"
                      "peers: \"c=10.0.0.3:7471\"\n"
                      "lease_hugepages: false\n"
                      "max_connect_timeout: \"10s\"\n");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->config.max_handshakes(), 16);
  EXPECT_EQ(file->config.peers_size(), 2);
  EXPECT_FALSE(file->config.lease_hugepages());
  EXPECT_TRUE(file->config.has_lease_hugepages());
  EXPECT_FALSE(file->config.has_max_workers());
  EXPECT_EQ(file->locations.at("max_handshakes"), "swiftd.conf:2:1");
  EXPECT_EQ(file->locations.at("peers"), "swiftd.conf:3:1");
}

TEST(ConfigFileTest, ErrorsNameLineAndColumn) {
  absl::StatusOr<ConfigFile> unknown =
      ParseConfigText("a.conf", "max_handshakes: 4\n  max_handshake: 4\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  // Line and column (TextFormat points past the unknown name).
  EXPECT_THAT(std::string(unknown.status().message()),
              ContainsRegex("^a\\.conf:2:[0-9]+: "));
  EXPECT_THAT(unknown.status().message(), HasSubstr("max_handshake"));

  absl::StatusOr<ConfigFile> type =
      ParseConfigText("a.conf", "max_handshakes: \"many\"\n");
  ASSERT_FALSE(type.ok());
  EXPECT_THAT(type.status().message(), HasSubstr("a.conf:1:17:"));

  absl::StatusOr<ConfigFile> twice =
      ParseConfigText("a.conf", "max_workers: 1\nmax_workers: 2\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("a.conf:2:"));
}

TEST(ConfigFileTest, MissingUnreadableAndHugeFilesAreNamed) {
  EXPECT_EQ(LoadConfigFile("/nonexistent/swiftd.conf").status().code(),
            absl::StatusCode::kNotFound);
  testing::TempDir dir;
  absl::StatusOr<ConfigFile> directory = LoadConfigFile(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.status().message(), HasSubstr("not a regular file"));
  const std::string big = dir.path() + "/big.conf";
  std::ofstream(big) << std::string(2 << 20, '#');
  absl::StatusOr<ConfigFile> huge = LoadConfigFile(big);
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(), HasSubstr("at most"));
}

// Parses a command line as swiftd's main() does, once per test binary's
// flags (absl remembers what the command line named).
void ParseCommandLineOnce() {
  static bool parsed = [] {
    static char program[] = "swiftd";
    static char max_queued[] = "--max_queued_connects=7";
    static char* argv[] = {program, max_queued, nullptr};
    absl::ParseCommandLine(2, argv);
    return true;
  }();
  (void)parsed;
}

TEST(EffectiveConfigTest, FlagsOverrideTheFileWhichOverridesDefaults) {
  ParseCommandLineOnce();
  absl::StatusOr<ConfigFile> file = ParseConfigText(
      "f.conf", "max_queued_connects: 100\nmax_handshakes: 16\n");
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<EffectiveConfig> merged = MergeConfig(&*file);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->config.max_queued_connects(), 7);      // The flag's.
  EXPECT_EQ(merged->config.max_handshakes(), 16);          // The file's.
  EXPECT_EQ(merged->config.max_handshakes_per_peer(), 8);  // Default.
  EXPECT_EQ(merged->config.hello_timeout(), "10s");
  EXPECT_EQ(merged->origins.at("max_queued_connects"), "--max_queued_connects");
  EXPECT_EQ(merged->origins.at("max_handshakes"), "f.conf:2:1");
  EXPECT_FALSE(merged->origins.contains("max_handshakes_per_peer"));
}

TEST(EffectiveConfigTest, TheDefaultFileMayBeMissingANamedOneNot) {
  ParseCommandLineOnce();
  EXPECT_TRUE(LoadEffectiveConfig("/nonexistent/swiftd.conf", false).ok());
  EXPECT_EQ(
      LoadEffectiveConfig("/nonexistent/swiftd.conf", true).status().code(),
      absl::StatusCode::kNotFound);
}

TEST(SwiftdOptionsTest, EveryBadValueIsListedWithWhereItWasSet) {
  ParseCommandLineOnce();
  absl::StatusOr<ConfigFile> file = ParseConfigText("bad.conf",
                                                    "max_handshakes: 0\n"
                                                    "hello_timeout: \"soon\"\n"
                                                    "socket_mode: \"0999\"\n"
                                                    "peers: \"nameless\"\n"
                                                    "cpus: \"3-1\"\n");
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<EffectiveConfig> merged = MergeConfig(&*file);
  ASSERT_TRUE(merged.ok()) << merged.status();
  absl::StatusOr<SwiftdOptions> options = SwiftdOptionsFromConfig(*merged);
  ASSERT_FALSE(options.ok());
  const std::string message(options.status().message());
  EXPECT_THAT(message, HasSubstr("bad.conf:1:1: max_handshakes must be at "
                                 "least 1, got 0"));
  EXPECT_THAT(message, HasSubstr("bad.conf:2:1: hello_timeout must be a "
                                 "duration like 30s or 5m, got 'soon'"));
  EXPECT_THAT(message, HasSubstr("bad.conf:3:1: socket_mode must be octal"));
  EXPECT_THAT(message, HasSubstr("bad.conf:4:1: peers entries are "
                                 "name=ip:port, got 'nameless'"));
  EXPECT_THAT(message, HasSubstr("bad.conf:5:1: cpus must be auto, all or a "
                                 "CPU list: '3-1': the range '3-1' runs "
                                 "backwards"));
}

TEST(SwiftdOptionsTest, GoodSettingsBecomeOptions) {
  ParseCommandLineOnce();
  absl::StatusOr<ConfigFile> file =
      ParseConfigText("good.conf",
                      "max_handshakes: 16\n"
                      "max_connect_timeout: \"10s\"\n"
                      "peers: \"b=10.0.0.2:7471\"\n"
                      "cold_template_idle_timeout: \"0s\"\n"
                      "metrics_address: \"\"\n"
                      "cpus: \"0,2-3\"\n");
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<EffectiveConfig> merged = MergeConfig(&*file);
  ASSERT_TRUE(merged.ok()) << merged.status();
  absl::StatusOr<SwiftdOptions> options = SwiftdOptionsFromConfig(*merged);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->admission.total, 16);
  EXPECT_EQ(options->admission.max_queued, 7);
  EXPECT_EQ(options->max_connect_timeout, absl::Seconds(10));
  EXPECT_EQ(options->peers.at("b"), "10.0.0.2:7471");
  EXPECT_EQ(options->cold_template_idle_timeout, absl::ZeroDuration());
  EXPECT_EQ(options->metrics_address, "");
  EXPECT_TRUE(options->metrics_required);
  EXPECT_EQ(options->socket_mode, 0660u);
  EXPECT_EQ(options->cpus.kind, CpusSetting::Kind::kList);
  EXPECT_EQ(options->cpus.list.ToString(), "0,2-3");
}

TEST(ConfigChangesTest, AReloadAppliesLiveSettingsAndKeepsTheRest) {
  config::SwiftdConfig before;
  before.set_max_handshakes(32);
  before.set_socket("/run/swift/swiftd.sock");
  before.add_peers("b=10.0.0.2:7471");
  before.set_log_verbosity(-1);
  config::SwiftdConfig after = before;
  after.set_max_handshakes(16);
  after.set_socket("/run/other.sock");
  after.set_log_verbosity(1);

  const std::vector<ConfigChange> changes = DiffConfigs(before, after);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].setting, "socket");
  EXPECT_FALSE(changes[0].live);
  EXPECT_EQ(changes[0].before, "\"/run/swift/swiftd.sock\"");
  EXPECT_EQ(changes[1].setting, "max_handshakes");
  EXPECT_TRUE(changes[1].live);
  EXPECT_EQ(changes[1].before, "32");
  EXPECT_EQ(changes[1].after, "16");
  EXPECT_EQ(changes[2].setting, "log_verbosity");
  EXPECT_TRUE(changes[2].live);

  const config::SwiftdConfig running = RunningAfterReload(before, after);
  EXPECT_EQ(running.max_handshakes(), 16);
  EXPECT_EQ(running.log_verbosity(), 1);
  EXPECT_EQ(running.socket(), "/run/swift/swiftd.sock");
  // The socket still waits for a restart: the next reload says so again.
  EXPECT_EQ(DiffConfigs(running, after).size(), 1u);
}

}  // namespace
}  // namespace swift
