// swiftctl as a user runs it: the real binary against a real swiftd.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/test_swiftd.h"
#include "tools/swiftctl/format.h"

namespace swift {
namespace {

using ::swift::testing::CommandResult;
using ::swift::testing::RunCommand;
using ::swift::testing::TestSwiftd;

std::string Swiftctl() {
  return swift::testing::RunfilePath("tools/swiftctl/swiftctl");
}

TEST(SwiftctlTest, StatusTableShowsTheDaemonAlive) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  CommandResult result =
      RunCommand(Swiftctl() + " --socket=" + swiftd.socket_path() + " status");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(absl::StrContains(result.out, "swiftd:    alive")) << result.out;
  EXPECT_TRUE(
      absl::StrContains(result.out, "pid:       " + std::to_string(getpid())))
      << result.out;
  EXPECT_TRUE(
      absl::StrContains(result.out, "socket:    " + swiftd.socket_path()))
      << result.out;
}

TEST(SwiftctlTest, StatusJsonIsOneObjectWithEveryField) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  CommandResult result = RunCommand(
      Swiftctl() + " --json --socket=" + swiftd.socket_path() + " status");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.front(), '{');
  EXPECT_EQ(result.out.substr(result.out.size() - 2), "}\n");
  for (const char* field : {"\"version\":\"", "\"uptime_us\":", "\"pid\":",
                            "\"devices_count\":", "\"clients_count\":0"}) {
    EXPECT_TRUE(absl::StrContains(result.out, field))
        << field << " missing in " << result.out;
  }
}

TEST(SwiftctlTest, DevicesListsWhatTheDaemonHolds) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  CommandResult result =
      RunCommand(Swiftctl() + " --socket=" + swiftd.socket_path() + " devices");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  if (swiftd.server().devices().entries().empty()) {
    EXPECT_TRUE(absl::StartsWith(result.out, "No RDMA devices.")) << result.out;
  } else {
    for (const auto& entry : swiftd.server().devices().entries()) {
      EXPECT_TRUE(absl::StrContains(result.out, entry.name)) << result.out;
    }
  }
  CommandResult json = RunCommand(
      Swiftctl() + " --json --socket=" + swiftd.socket_path() + " devices");
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(absl::StrContains(json.out, "\"devices\":")) << json.out;
}

TEST(SwiftctlTest, MissingDaemonExitsOneWithAClearMessage) {
  swift::testing::TempDir dir;
  CommandResult result =
      RunCommand(Swiftctl() + " --socket=" + dir.path() + "/none.sock status");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(result.err, "swiftd is not running"))
      << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
}

TEST(SwiftctlTest, BadUsageExitsWithUsage) {
  CommandResult unknown = RunCommand(Swiftctl() + " frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(unknown.err, "unknown command 'frobnicate'"))
      << unknown.err;
  EXPECT_TRUE(absl::StrContains(unknown.err, "Usage:")) << unknown.err;

  CommandResult none = RunCommand(Swiftctl());
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(none.err, "no command given")) << none.err;

  CommandResult bad_flag = RunCommand(Swiftctl() + " --no_such_flag status");
  EXPECT_NE(bad_flag.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(bad_flag.err, "no_such_flag")) << bad_flag.err;

  CommandResult bad_timeout = RunCommand(Swiftctl() + " --timeout_ms=0 status");
  EXPECT_EQ(bad_timeout.exit_code, 2);
}

TEST(SwiftctlTest, BrokerCommandsAnswerOnADaemonWithoutPeers) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  for (const char* command :
       {"peers", "services", "pools", "connections", "tenants"}) {
    CommandResult table = RunCommand(
        Swiftctl() + " --socket=" + swiftd.socket_path() + " " + command);
    EXPECT_EQ(table.exit_code, 0) << command << ": " << table.err;
    EXPECT_FALSE(table.out.empty()) << command;
    CommandResult json =
        RunCommand(Swiftctl() + " --json --socket=" + swiftd.socket_path() +
                   " " + command);
    EXPECT_EQ(json.exit_code, 0) << command << ": " << json.err;
    EXPECT_EQ(json.out.front(), '{') << command << ": " << json.out;
  }
}

TEST(SwiftctlTest, FunctionCommandsCheckTheirArgumentsAndExplainRefusals) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  const std::string base = Swiftctl() + " --socket=" + swiftd.socket_path();
  CommandResult no_name = RunCommand(base + " invoke");
  EXPECT_EQ(no_name.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(no_name.err, "one function name"))
      << no_name.err;
  CommandResult bad_mode = RunCommand(base + " --mode=lukewarm invoke f");
  EXPECT_EQ(bad_mode.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad_mode.err, "cold, warm or fork"))
      << bad_mode.err;
  // This swiftd was started without a worker binary.
  CommandResult refused = RunCommand(base + " invoke f");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(refused.err, "runs no function workers"))
      << refused.err;
  CommandResult workers = RunCommand(base + " workers");
  EXPECT_EQ(workers.exit_code, 0) << workers.err;
  EXPECT_TRUE(absl::StartsWith(workers.out, "No functions registered"))
      << workers.out;
}

// The flags defined in tools/swiftctl/ files, as absl's --helpfull lists
// them ("  Flags from tools/swiftctl/main.cc:" then "    --name (...").
std::set<std::string> SwiftctlFlags() {
  const CommandResult full = RunCommand(Swiftctl() + " --helpfull");
  std::set<std::string> flags;
  bool ours = false;
  for (absl::string_view line : absl::StrSplit(full.out, '\n')) {
    if (absl::StartsWith(line, "  Flags from ")) {
      ours = absl::StrContains(line, "tools/swiftctl/");
      continue;
    }
    if (ours && absl::ConsumePrefix(&line, "    --")) {
      flags.insert(std::string(line.substr(0, line.find(' '))));
    }
  }
  return flags;
}

TEST(SwiftctlTest, HelpListsEveryCommandAndEveryFlagAndNothingElse) {
  const std::set<std::string> flags = SwiftctlFlags();
  // The flags swiftctl has had since issue 7, and top's.
  for (const char* flag : {"socket", "json", "timeout_ms", "mode", "library",
                           "interval", "once"}) {
    EXPECT_EQ(flags.count(flag), 1u) << flag << " not found by --helpfull";
  }
  for (const char* asked : {" --help", " -h", " help", " -help"}) {
    const CommandResult help = RunCommand(Swiftctl() + asked);
    EXPECT_EQ(help.exit_code, 0) << asked << ": " << help.err;
    EXPECT_TRUE(help.err.empty()) << asked << ": " << help.err;
    EXPECT_TRUE(absl::StartsWith(help.out, "Usage: swiftctl ")) << help.out;
    EXPECT_FALSE(absl::StrContains(help.out, "No flags matched")) << help.out;
    EXPECT_FALSE(absl::StrContains(help.out, "swiftctl: swiftctl")) << help.out;
    EXPECT_FALSE(absl::StrContains(help.out, "helpfull")) << help.out;
    for (const std::string& flag : flags) {
      // help2man's form: "  --flag=DEFAULT" at the start of a line.
      EXPECT_TRUE(absl::StrContains(help.out, "\n  --" + flag + "="))
          << asked << ": --" << flag << " missing in\n"
          << help.out;
    }
    // No flag of absl's own, or of the libraries swiftctl links.
    for (absl::string_view line : absl::StrSplit(help.out, '\n')) {
      if (absl::ConsumePrefix(&line, "  --")) {
        const std::string name(line.substr(0, line.find('=')));
        EXPECT_EQ(flags.count(name), 1u)
            << "--" << name << " is not swiftctl's";
      }
    }
    // Every command, one line each.
    for (const char* command :
         {"status", "devices", "peers", "services", "pools", "connections",
          "tenants", "workers", "register NAME", "unregister NAME",
          "invoke NAME", "leases", "clients", "top", "version"}) {
      EXPECT_TRUE(
          absl::StrContains(help.out, absl::StrCat("\n  ", command, "  ")))
          << command << " missing in\n"
          << help.out;
    }
  }
  // Defaults and groups.
  const std::string help = RunCommand(Swiftctl() + " --help").out;
  EXPECT_TRUE(absl::StrContains(help, "\n  --interval=1s ")) << help;
  EXPECT_TRUE(absl::StrContains(help, "\n  --mode=fork ")) << help;
  EXPECT_TRUE(absl::StrContains(help, "\nOptions of top:\n")) << help;
  EXPECT_TRUE(absl::StrContains(help, "\nOptions of invoke:\n")) << help;
  EXPECT_TRUE(absl::StrContains(help, "\nGeneral options:\n")) << help;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

TEST(SwiftctlTest, VersionFlagSaysTheVersion) {
  const CommandResult version = RunCommand(Swiftctl() + " --version");
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_TRUE(absl::StartsWith(version.out, "swiftctl ")) << version.out;
  EXPECT_TRUE(absl::StrContains(version.out, "Control API v")) << version.out;
}

TEST(SwiftctlTest, TopWithoutSwiftdExitsOneWithAClearMessage) {
  swift::testing::TempDir dir;
  const CommandResult top = RunCommand(Swiftctl() + " --socket=" + dir.path() +
                                       "/none.sock top --once");
  EXPECT_EQ(top.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(top.err, "swiftd is not running")) << top.err;
  EXPECT_TRUE(top.out.empty()) << top.out;

  const CommandResult bad_interval =
      RunCommand(Swiftctl() + " --interval=0s top --once");
  EXPECT_EQ(bad_interval.exit_code, 2);
  EXPECT_TRUE(
      absl::StrContains(bad_interval.err, "--interval must be positive"))
      << bad_interval.err;
}

TEST(SwiftctlFormatTest, ConnectionsShowFailuresByReason) {
  v1::ListConnectionsResponse response;
  v1::ConnectionInfo* connection = response.add_connections();
  connection->set_id(7);
  connection->set_peer("10.77.0.1:7471");
  connection->set_service("kv");
  connection->set_client_name("bench");
  connection->set_client_pid(42);
  connection->set_handshake_us(812);
  response.set_connected_total(3);
  (*response.mutable_failed_by_reason())["NOT_FOUND"] = 2;
  (*response.mutable_failed_by_reason())["UNAVAILABLE"] = 1;
  const std::string table = swiftctl::FormatConnections(response);
  EXPECT_TRUE(absl::StrContains(table, "10.77.0.1:7471  kv       bench (42)"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "failed: NOT_FOUND 2, UNAVAILABLE 1"))
      << table;
}

TEST(SwiftctlFormatTest, TenantsShowUseAgainstQuota) {
  v1::ListTenantsResponse response;
  v1::TenantInfo* tenant = response.add_tenants();
  tenant->set_uid(1000);
  tenant->set_connections(3);
  tenant->set_max_connections(4096);
  tenant->set_services(1);
  tenant->set_max_services(128);
  tenant->set_pooled_endpoints(8);
  tenant->set_max_pooled_endpoints(16384);
  tenant->set_handshakes(2);
  tenant->set_max_handshakes(8);
  tenant->set_functions(1);
  tenant->set_max_functions(16);
  response.set_max_pooled_endpoints_per_service(4096);
  response.set_max_connect_timeout_ms(30000);
  response.set_max_peer_entries(256);
  response.set_peer_entries(3);
  const std::string table = swiftctl::FormatTenants(response);
  EXPECT_TRUE(absl::StrContains(
      table, "1000  3/4096       1/128     8/16384           2/8"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "1/16")) << table;
  EXPECT_TRUE(absl::StrContains(table, "a connect waits 30s at most"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "peers: 3 of 256")) << table;
  EXPECT_TRUE(absl::StartsWith(
      swiftctl::FormatTenants(v1::ListTenantsResponse()), "No tenant"));
}

TEST(SwiftctlFormatTest, PeersShowCacheCountersAndErrors) {
  v1::ListPeersResponse response;
  v1::PeerInfo* peer = response.add_peers();
  peer->set_name("host-b");
  peer->set_address("10.77.0.2:7471");
  peer->set_incarnation(99);
  peer->add_services("kv");
  peer->set_cache_hits(10);
  peer->set_cache_misses(1);
  v1::PeerInfo* down = response.add_peers();
  down->set_name("host-c");
  down->set_address("10.77.0.3:7471");
  down->set_last_error("connection refused");
  const std::string table = swiftctl::FormatPeers(response);
  EXPECT_TRUE(absl::StrContains(table, "10/1")) << table;
  EXPECT_TRUE(absl::StrContains(table, "connection refused")) << table;
}

TEST(SwiftctlFormatTest, TablesAlignColumns) {
  EXPECT_EQ(swiftctl::FormatTable({"A", "LONG"}, {{"xyz", "1"}, {"q", "22"}}),
            "A    LONG\n"
            "xyz  1\n"
            "q    22\n");
}

TEST(SwiftctlFormatTest, DurationsReadNaturally) {
  EXPECT_EQ(swiftctl::FormatDuration(340000), "340ms");
  EXPECT_EQ(swiftctl::FormatDuration(12000000), "12s");
  EXPECT_EQ(swiftctl::FormatDuration(67000000), "1m 7s");
  EXPECT_EQ(swiftctl::FormatDuration(7500000000ull), "2h 5m");
  EXPECT_EQ(
      swiftctl::FormatDuration(3ull * 86400000000ull + 4ull * 3600000000ull),
      "3d 4h");
}

TEST(SwiftctlFormatTest, DevicesTableShowsPortsGidsAndErrors) {
  v1::ListDevicesResponse response;
  v1::Device* device = response.add_devices();
  device->set_name("rxe0");
  device->set_node_guid("5254:00ff:fe12:3456");
  device->set_transport("InfiniBand");
  v1::Port* port = device->add_ports();
  port->set_port_num(1);
  port->set_state("ACTIVE");
  port->set_active_mtu_bytes(1024);
  port->set_max_mtu_bytes(4096);
  v1::Gid* gid = port->add_gids();
  gid->set_index(1);
  gid->set_type("RoCE v2");
  gid->set_gid("::ffff:10.77.0.1");
  response.add_devices()->set_name("broken0");
  response.mutable_devices(1)->set_error("PERMISSION_DENIED: ibv_open_device");

  const std::string table = swiftctl::FormatDevices(response);
  EXPECT_TRUE(absl::StrContains(table, "rxe0    1     ACTIVE  1024/4096"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "RoCE v2  ::ffff:10.77.0.1")) << table;
  EXPECT_TRUE(
      absl::StrContains(table, "broken0: cannot be used: PERMISSION_DENIED"))
      << table;
}

}  // namespace
}  // namespace swift
