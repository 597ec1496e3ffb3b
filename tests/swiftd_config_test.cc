// swiftd's config file as an operator uses it: --check_config reports
// every bad value with line and column; a named file that is missing
// stops swiftd; flags override the file; SIGHUP applies the live settings
// of a good file, logs what waits for a restart, and keeps the running
// config when the new file is bad. And --cpus: where swiftd's threads run.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/cpu_set.h"
#include "common/testing/command_testing.h"
#include "common/testing/eventually.h"
#include "common/testing/thread_status.h"
#include "common/testing/unix_socket_testing.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/swiftd_process.h"

namespace swift {
namespace {

using ::swift::testing::ReadWholeFile;
using ::swift::testing::RunCommand;
using ::swift::testing::RunfilePath;
using ::swift::testing::SwiftdProcess;
using ::swift::testing::TempDir;
using ::swift::testing::ThreadStatusFields;

void WriteConfig(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// systemd's side of Type=notify: READY=1, RELOADING=1, STOPPING=1.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path)
      : fd_(testing::BindUnixSocket(path, SOCK_DGRAM, /*listen_too=*/false)) {
    timeval timeout = {30, 0};
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  std::string Receive() {
    char buffer[512] = {};
    const ssize_t size = recv(fd_.get(), buffer, sizeof(buffer) - 1, 0);
    return size > 0 ? std::string(buffer, size) : "";
  }

 private:
  UniqueFd fd_;
};

// A swiftd that brokers (so that it has handshake admission) on loopback.
std::vector<std::string> BrokeringFlags(const std::string& config) {
  return {"--config=" + config, "--peer_address=127.0.0.1:0",
          "--insecure_peers",   "--peer_allow=127.0.0.1/32",
          "--state_dir=",       "--metrics_address="};
}

// --max_handshakes as swiftd reports it (swiftctl connections).
int TotalHandshakeLimit(const std::string& socket) {
  const testing::CommandResult result =
      RunCommand(RunfilePath("tools/swiftctl/swiftctl") +
                 " --socket=" + socket + " --json connections");
  const std::string key = "\"total_limit\":";
  const size_t at = result.out.find(key);
  if (result.exit_code != 0 || at == std::string::npos) return -1;
  int limit = -1;
  const size_t start = at + key.size();
  const size_t end = result.out.find_first_not_of("0123456789", start);
  return absl::SimpleAtoi(result.out.substr(start, end - start), &limit) ? limit
                                                                         : -1;
}

TEST(SwiftdConfigTest, CheckConfigListsEveryErrorWithLineAndColumn) {
  TempDir dir;
  const std::string bad = dir.path() + "/bad.conf";
  WriteConfig(bad, "# a comment\nmax_handshakes: 0\nhello_timeout: \"x\"\n");
  const std::string swiftd = RunfilePath("daemon/swiftd");
  testing::CommandResult result = RunCommand(swiftd + " --check_config=" + bad);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(
      result.err, bad + ":2:1: max_handshakes must be at least 1, got 0"))
      << result.err;
  EXPECT_TRUE(absl::StrContains(result.err, bad + ":3:1: hello_timeout"))
      << result.err;

  WriteConfig(bad, "max_handshakes: 4\nmax_handshake: 4\n");
  result = RunCommand(swiftd + " --config=" + bad + " --check_config");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(result.err, bad + ":2:")) << result.err;
  EXPECT_TRUE(absl::StrContains(result.err, "max_handshake")) << result.err;

  const std::string good = dir.path() + "/good.conf";
  WriteConfig(good, "max_handshakes: 4\npeers: \"b=10.0.0.2:7471\"\n");
  result = RunCommand(swiftd + " --check_config=" + good);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, good + ": valid\n");
  // A flag on the command line is checked with the file.
  result = RunCommand(swiftd + " --check_config=" + good + " --max_workers=-1");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(result.err, "--max_workers must be at least 0"))
      << result.err;
}

// The sample lists every setting with its default, commented out: as
// shipped and with every one of those lines uncommented, it is valid.
TEST(SwiftdConfigTest, TheShippedSampleIsValidAndSoAreItsDefaults) {
  const std::string sample = RunfilePath("tools/config/swiftd.conf");
  const std::string swiftd = RunfilePath("daemon/swiftd");
  testing::CommandResult result =
      RunCommand(swiftd + " --check_config=" + sample);
  EXPECT_EQ(result.exit_code, 0) << result.err;

  TempDir dir;
  const std::string uncommented = dir.path() + "/swiftd.conf";
  std::ofstream out(uncommented);
  std::istringstream lines(ReadWholeFile(sample));
  int settings = 0;
  for (std::string line; std::getline(lines, line);) {
    // "# name: value", not an example placeholder ("...").
    const size_t colon = line.find(": ");
    if (absl::StartsWith(line, "# ") && colon != std::string::npos &&
        line.find_first_not_of("abcdefghijklmnopqrstuvwxyz_", 2) == colon &&
        !absl::StrContains(line, "\"...\"")) {
      out << line.substr(2) << "\n";
      ++settings;
    }
  }
  out.close();
  EXPECT_GT(settings, 40);
  result = RunCommand(swiftd + " --check_config=" + uncommented);
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

// The directory's settings are checked together: what it needs, and its
// TLS files (a client certificate without its key, files without a
// directory); every error is listed at once.
TEST(SwiftdConfigTest, DirectorySettingsAreCheckedWithWhatTheyNeed) {
  TempDir dir;
  const std::string swiftd = RunfilePath("daemon/swiftd");
  const std::string config = dir.path() + "/swiftd.conf";
  WriteConfig(config,
              "directory: \"etcd://10.0.0.9:2379/swift\"\n"
              "directory_cert_file: \"" +
                  dir.path() +
                  "/client.crt\"\n"
                  "directory_ttl: \"500ms\"\n");
  testing::CommandResult result =
      RunCommand(swiftd + " --check_config=" + config);
  EXPECT_EQ(result.exit_code, 1);
  for (const char* expected : {"needs peer_address", "needs peer_allow",
                               "needs its key", "must be at least 1s"}) {
    EXPECT_TRUE(absl::StrContains(result.err, expected))
        << expected << " in: " << result.err;
  }
  WriteConfig(config, "directory_ca_file: \"/etc/ssl/ca.pem\"\n");
  result = RunCommand(swiftd + " --check_config=" + config);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(result.err, "but there is no directory"))
      << result.err;
}

TEST(SwiftdConfigTest, ANamedConfigFileThatIsMissingStopsSwiftd) {
  TempDir dir;
  SwiftdProcess swiftd(dir.path() + "/swiftd.sock", "", dir.path() + "/log",
                       {"--config=" + dir.path() + "/missing.conf"});
  EXPECT_EQ(swiftd.Wait(), 2);
  const std::string log = ReadWholeFile(dir.path() + "/log");
  EXPECT_TRUE(absl::StrContains(
      log, "cannot read the config file " + dir.path() + "/missing.conf"))
      << log;
}

TEST(SwiftdConfigTest, SighupAppliesLiveSettingsAndKeepsTheOldOnABadFile) {
  TempDir dir;
  const std::string socket = dir.path() + "/swiftd.sock";
  const std::string config = dir.path() + "/swiftd.conf";
  WriteConfig(config, "max_handshakes: 12\n");
  NotifySocket notify(dir.path() + "/notify");
  SwiftdProcess swiftd(socket, dir.path() + "/notify", dir.path() + "/log",
                       BrokeringFlags(config));
  ASSERT_TRUE(absl::StartsWith(notify.Receive(), "READY=1"));
  EXPECT_EQ(TotalHandshakeLimit(socket), 12);

  // A good file: the live setting applies, the other waits for a restart.
  WriteConfig(config, "max_handshakes: 6\nsocket_mode: \"0600\"\n");
  swiftd.Signal(SIGHUP);
  EXPECT_EQ(notify.Receive(), "RELOADING=1");
  EXPECT_TRUE(absl::StrContains(notify.Receive(), "config reloaded"));
  EXPECT_EQ(TotalHandshakeLimit(socket), 6);
  std::string log = ReadWholeFile(dir.path() + "/log");
  EXPECT_TRUE(absl::StrContains(log, "max_handshakes 12 -> 6 (applied)"))
      << log;
  EXPECT_TRUE(absl::StrContains(
      log, "socket_mode \"0660\" -> \"0600\" needs a restart"))
      << log;

  // A bad file: refused with its line and column; nothing changes.
  WriteConfig(config, "max_handshakes: 20\nmax_queued_connects: -1\n");
  swiftd.Signal(SIGHUP);
  EXPECT_EQ(notify.Receive(), "RELOADING=1");
  EXPECT_TRUE(absl::StrContains(notify.Receive(), "reload was refused"));
  EXPECT_EQ(TotalHandshakeLimit(socket), 6);
  log = ReadWholeFile(dir.path() + "/log");
  EXPECT_TRUE(absl::StrContains(
      log, config + ":2:1: max_queued_connects must be at least 0, got -1"))
      << log;
  EXPECT_EQ(swiftd.StopWith(SIGTERM), 0);
}

// Peers' names and the allow-list are live too.
TEST(SwiftdConfigTest, SighupRenamesPeers) {
  TempDir dir;
  const std::string socket = dir.path() + "/swiftd.sock";
  const std::string config = dir.path() + "/swiftd.conf";
  WriteConfig(config, "peers: \"old=127.0.0.1:7999\"\n");
  NotifySocket notify(dir.path() + "/notify");
  SwiftdProcess swiftd(socket, dir.path() + "/notify", dir.path() + "/log",
                       BrokeringFlags(config));
  ASSERT_TRUE(absl::StartsWith(notify.Receive(), "READY=1"));
  const std::string peers = RunfilePath("tools/swiftctl/swiftctl") +
                            " --socket=" + socket + " --json peers";
  EXPECT_TRUE(absl::StrContains(RunCommand(peers).out, "\"old\""));

  WriteConfig(config, "peers: \"new=127.0.0.1:7998\"\n");
  swiftd.Signal(SIGHUP);
  EXPECT_EQ(notify.Receive(), "RELOADING=1");
  EXPECT_TRUE(absl::StrContains(notify.Receive(), "config reloaded"));
  const std::string listed = RunCommand(peers).out;
  EXPECT_TRUE(absl::StrContains(listed, "\"new\"")) << listed;
  EXPECT_FALSE(absl::StrContains(listed, "\"old\"")) << listed;
  EXPECT_EQ(swiftd.StopWith(SIGTERM), 0);
}

TEST(SwiftdConfigTest, AFlagOverridesTheFileAtStartAndOnReload) {
  TempDir dir;
  const std::string socket = dir.path() + "/swiftd.sock";
  const std::string config = dir.path() + "/swiftd.conf";
  WriteConfig(config, "max_handshakes: 12\n");
  NotifySocket notify(dir.path() + "/notify");
  std::vector<std::string> flags = BrokeringFlags(config);
  flags.push_back("--max_handshakes=20");
  SwiftdProcess swiftd(socket, dir.path() + "/notify", dir.path() + "/log",
                       flags);
  ASSERT_TRUE(absl::StartsWith(notify.Receive(), "READY=1"));
  EXPECT_EQ(TotalHandshakeLimit(socket), 20);
  WriteConfig(config, "max_handshakes: 6\n");
  swiftd.Signal(SIGHUP);
  EXPECT_EQ(notify.Receive(), "RELOADING=1");
  EXPECT_TRUE(absl::StrContains(notify.Receive(), "config reloaded"));
  EXPECT_EQ(TotalHandshakeLimit(socket), 20);
  EXPECT_EQ(swiftd.StopWith(SIGTERM), 0);
}

TEST(SwiftdCpusTest, SwiftdsThreadsRunOnTheCpusItIsGiven) {
  const CpuSet allowed = *CpuSet::OfThisThread();
  CpuSet first;
  first.Add(allowed.First());
  for (const auto& [setting, expected] :
       std::vector<std::pair<std::string, std::string>>{
           {"auto", first.ToString()},
           {"all", allowed.ToString()},
           {allowed.ToString(), allowed.ToString()}}) {
    SCOPED_TRACE("--cpus=" + setting);
    TempDir dir;
    NotifySocket notify(dir.path() + "/notify");
    std::vector<std::string> flags = BrokeringFlags("");
    flags.push_back("--cpus=" + setting);
    SwiftdProcess swiftd(dir.path() + "/swiftd.sock", dir.path() + "/notify",
                         dir.path() + "/log", flags);
    ASSERT_TRUE(absl::StartsWith(notify.Receive(), "READY=1"));
    const std::vector<std::string> threads =
        ThreadStatusFields(swiftd.pid(), "Cpus_allowed_list:\t");
    EXPECT_GT(threads.size(), 3u);  // Its servers' threads, not only main.
    for (const std::string& cpus : threads) {
      EXPECT_EQ(cpus, expected);
    }
    EXPECT_EQ(swiftd.StopWith(SIGTERM), 0);
  }
}

// An operator tells swiftd's threads apart in top -H, ps -L and perf.
TEST(SwiftdThreadsTest, SwiftdsThreadsAreNamedForWhatTheyDo) {
  TempDir dir;
  NotifySocket notify(dir.path() + "/notify");
  SwiftdProcess swiftd(dir.path() + "/swiftd.sock", dir.path() + "/notify",
                       dir.path() + "/log", BrokeringFlags(""));
  ASSERT_TRUE(absl::StartsWith(notify.Receive(), "READY=1"));
  // Their names (common/thread_name.h). A thread names itself when it
  // first runs, which may be a moment after READY.
  const std::vector<const char*> expected = {
      "sw-fastpath-acc", "sw-peerlink-acc", "sw-closer", "sw-peerwatch"};
  std::vector<std::string> names;
  auto all_named = [&] {
    names = ThreadStatusFields(swiftd.pid(), "Name:\t");
    return std::all_of(expected.begin(), expected.end(), [&](const char* name) {
      return std::find(names.begin(), names.end(), name) != names.end();
    });
  };
  EXPECT_TRUE(::swift::testing::Eventually(all_named))
      << "expected " << absl::StrJoin(expected, ", ") << " among "
      << absl::StrJoin(names, ", ");
  EXPECT_EQ(swiftd.StopWith(SIGTERM), 0);
}

TEST(SwiftdCpusTest, ACpuSwiftdMayNotUseStopsIt) {
  TempDir dir;
  SwiftdProcess swiftd(dir.path() + "/swiftd.sock", "", dir.path() + "/log",
                       {"--config=", "--cpus=1023"});
  EXPECT_EQ(swiftd.Wait(), 2);
  const std::string log = ReadWholeFile(dir.path() + "/log");
  EXPECT_TRUE(
      absl::StrContains(log, "--cpus=1023: swiftd may only run on CPUs " +
                                 CpuSet::OfThisThread()->ToString()))
      << log;
}

}  // namespace
}  // namespace swift
