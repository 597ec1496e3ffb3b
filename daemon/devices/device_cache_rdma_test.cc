// DeviceCache on the Soft-RoCE guest's real devices: the snapshot against
// what ibv_devinfo and rdma say, a port going down and up, a device added
// and deleted at run time, and nothing left open or running afterwards.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <iostream>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/testing/rdma_test_env.h"
#include "daemon/devices/device_cache.h"
#include "daemon/devices/device_report.h"

namespace swift {
namespace {

using ::swift::testing::EnvOr;

struct Shell {
  int exit_code = -1;
  std::string out;
};

// Runs `command` with sh; stdout and stderr together.
Shell Sh(const std::string& command) {
  Shell result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buffer[4096];
  size_t length = 0;
  while ((length = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.out.append(buffer, length);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Device() {
  return EnvOr("RXE_A_DEV", swift::testing::TestDeviceName());
}
std::string Netdev() { return EnvOr("RXE_A_NETDEV", EnvOr("RXE_NETDEV", "")); }
std::string GidIndex() {
  return EnvOr("RXE_A_GID_INDEX", EnvOr("RXE_GID_INDEX", ""));
}

// Waits up to `deadline` for `done` (polled every 50 ms).
template <typename Predicate>
bool WaitFor(absl::Duration deadline, Predicate done) {
  const absl::Time end = absl::Now() + deadline;
  while (!done()) {
    if (absl::Now() > end) {
      return false;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

// The "ctx N" count `rdma resource show` gives for `device`; -1 if absent.
int ContextsOf(const std::string& device) {
  Shell shell = Sh("rdma resource show");
  std::smatch match;
  const std::regex pattern(absl::StrCat(" ", device, ": .* ctx ([0-9]+)"));
  for (absl::string_view line : absl::StrSplit(shell.out, '\n')) {
    const std::string text(line);
    if (std::regex_search(text, match, pattern)) {
      return std::stoi(match[1]);
    }
  }
  return -1;
}

int ThreadCount() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (const dirent* entry = readdir(dir)) {
      count += entry->d_name[0] != '.' ? 1 : 0;
    }
    closedir(dir);
  }
  return count;
}

// The value after "key:" on the first line of `text` that has it.
std::string Field(const std::string& text, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&trimmed, key + ":")) {
      return std::string(absl::StripAsciiWhitespace(trimmed));
    }
  }
  return "";
}

class DeviceCacheRdmaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Sh("rdma link show").out.find("link ") == std::string::npos) {
      if (swift::testing::RdmaRequired()) {
        FAIL() << "no RDMA device, but SWIFT_RDMA_REQUIRED=1";
      }
      GTEST_SKIP() << "no RDMA device on this host";
    }
  }

  std::unique_ptr<DeviceCache> StartCache() {
    DeviceCache::Options options;
    options.rescan_interval = absl::Seconds(30);  // Only uevents in time.
    absl::StatusOr<std::unique_ptr<DeviceCache>> cache =
        DeviceCache::Start(options);
    EXPECT_TRUE(cache.ok()) << cache.status();
    return cache.ok() ? *std::move(cache) : nullptr;
  }
};

TEST_F(DeviceCacheRdmaTest, SnapshotMatchesIbvDevinfoAndRdmaLink) {
  std::unique_ptr<DeviceCache> cache = StartCache();
  ASSERT_NE(cache, nullptr);
  std::optional<DeviceRecord> record = cache->table().Find(Device());
  ASSERT_TRUE(record.has_value()) << Device() << " not in the cache";
  ASSERT_EQ(record->state, DeviceState::kOpen) << record->error;
  EXPECT_TRUE(absl::EndsWith(record->provider_library, "/librxe-rdmav34.so"))
      << record->provider_library;
  EXPECT_EQ(record->driver, "rxe");
  EXPECT_FALSE(record->context_import.supported);
  EXPECT_EQ(record->context_import.detail,
            "ibv_import_device: Operation not supported");
  EXPECT_FALSE(record->fork_child_post.supported);
  EXPECT_EQ(record->doorbell, "write-command");
  EXPECT_TRUE(absl::StrContains(record->fork_child_post.detail,
                                "needs the ioctl doorbell"))
      << record->fork_child_post.detail;
  EXPECT_FALSE(record->hardware_irqs.supported);
  EXPECT_EQ(record->irq_count, 0u);
  EXPECT_GE(record->info.num_comp_vectors, 1);

  const std::string devinfo = Sh("ibv_devinfo -v -d " + Device()).out;
  EXPECT_EQ(record->info.firmware_version, Field(devinfo, "fw_ver"));
  EXPECT_EQ(absl::StrCat(record->info.max_qp), Field(devinfo, "max_qp"));
  EXPECT_EQ(absl::StrCat(record->info.max_cqe), Field(devinfo, "max_cqe"));
  EXPECT_EQ(absl::StrCat(record->info.max_sge), Field(devinfo, "max_sge"));
  EXPECT_TRUE(absl::StartsWith(Field(devinfo, "atomic_cap"),
                               "ATOMIC_" + record->info.atomic_cap))
      << Field(devinfo, "atomic_cap");
  ASSERT_EQ(record->info.ports.size(), 1u);
  const verbs::PortInfo& port = record->info.ports[0];
  EXPECT_EQ(Field(devinfo, "state"), "PORT_" + port.state + " (4)");
  EXPECT_TRUE(absl::StartsWith(Field(devinfo, "active_mtu"),
                               absl::StrCat(port.active_mtu_bytes, " ")));
  EXPECT_EQ(Field(devinfo, "link_layer"), port.link_layer);

  // The fixture's RoCE v2 GID, as ibv_devinfo and rdma-up found it.
  const std::string gid_index = GidIndex();
  ASSERT_FALSE(gid_index.empty());
  const verbs::GidInfo* gid = nullptr;
  for (const verbs::GidInfo& entry : port.gids) {
    if (absl::StrCat(entry.index) == gid_index) {
      gid = &entry;
    }
  }
  ASSERT_NE(gid, nullptr) << "no GID at index " << gid_index;
  EXPECT_EQ(gid->type, "RoCE v2");
  EXPECT_TRUE(gid->ipv4_mapped) << gid->gid;
  EXPECT_EQ(gid->netdev, Netdev());
  const std::string gid_line = absl::StrCat(
      "GID[", std::string(3 - std::min<size_t>(3, gid_index.size()), ' '),
      gid_index, "]:");
  const size_t at = devinfo.find(gid_line);
  ASSERT_NE(at, std::string::npos) << gid_line << " in " << devinfo;
  const std::string devinfo_gid =
      devinfo.substr(at, devinfo.find('\n', at) - at);
  EXPECT_TRUE(absl::StrContains(devinfo_gid, "RoCE v2")) << devinfo_gid;

  // `rdma link`: "link rxeA/1 state ACTIVE physical_state LINK_UP netdev vethA"
  const std::string link = Sh("rdma link show " + Device() + "/1").out;
  EXPECT_TRUE(absl::StrContains(link, "state " + port.state)) << link;
  EXPECT_TRUE(absl::StrContains(link, "physical_state " + port.phys_state))
      << link;
  EXPECT_TRUE(absl::StrContains(link, "netdev " + Netdev())) << link;

  // The fast path's answer carries the same.
  v1::DescribeDevicesResult described = DescribeDevices(*cache);
  bool listed = false;
  for (const v1::Device& device : described.devices()) {
    if (device.name() == Device()) {
      listed = true;
      EXPECT_EQ(device.provider_library(), record->provider_library);
      EXPECT_EQ(device.state(), "open");
      EXPECT_FALSE(device.capabilities().context_import());
    }
  }
  EXPECT_TRUE(listed);
  EXPECT_EQ(described.generation(), cache->table().generation());
}

TEST_F(DeviceCacheRdmaTest, NetdevDownAndUpIsSeenAsPortStateChanges) {
  ASSERT_FALSE(Netdev().empty());
  std::unique_ptr<DeviceCache> cache = StartCache();
  ASSERT_NE(cache, nullptr);
  // Routes through the netdev vanish when it goes down (the two-host guest
  // routes A<->B over it): put them back afterwards.
  const std::string routes =
      Sh("ip -4 route show table all dev " + Netdev()).out;
  const uint64_t before = cache->table().generation();
  ASSERT_EQ(Sh("ip link set " + Netdev() + " down").exit_code, 0);
  const absl::Time down_at = absl::Now();
  const bool saw_down = WaitFor(absl::Seconds(20), [&] {
    std::optional<DeviceRecord> record = cache->table().Find(Device());
    return record.has_value() && record->info.ports[0].state != "ACTIVE";
  });
  const absl::Duration down_seen = absl::Now() - down_at;
  ASSERT_EQ(Sh("ip link set " + Netdev() + " up").exit_code, 0);
  const absl::Time up_at = absl::Now();
  const bool saw_up = WaitFor(absl::Seconds(20), [&] {
    std::optional<DeviceRecord> record = cache->table().Find(Device());
    return record.has_value() && record->info.ports[0].state == "ACTIVE";
  });
  const absl::Duration up_seen = absl::Now() - up_at;
  for (absl::string_view line : absl::StrSplit(routes, '\n')) {
    if (line.empty() || absl::StartsWith(line, "local ") ||
        absl::StartsWith(line, "broadcast ") ||
        absl::StrContains(line, "proto kernel")) {
      continue;
    }
    Shell restored =
        Sh(absl::StrCat("ip route replace ", line, " dev ", Netdev()));
    EXPECT_EQ(restored.exit_code, 0) << line << ": " << restored.out;
  }
  EXPECT_TRUE(saw_down) << "port of " << Device() << " still ACTIVE after "
                        << Netdev() << " went down";
  EXPECT_TRUE(saw_up) << "port of " << Device() << " not ACTIVE again";
  std::cout << "port down seen after " << down_seen << ", up after " << up_seen
            << "\n";
  std::optional<DeviceRecord> record = cache->table().Find(Device());
  ASSERT_TRUE(record.has_value());
  EXPECT_TRUE(absl::StrContains(record->last_event, "PORT_ACTIVE"))
      << record->last_event;
  EXPECT_GE(cache->table().generation(), before + 2);
  // The GID the fixture uses is back (re-read on GID_CHANGE / PORT_ACTIVE).
  EXPECT_TRUE(WaitFor(absl::Seconds(20), [&] {
    std::optional<DeviceRecord> now = cache->table().Find(Device());
    for (const verbs::GidInfo& gid : now->info.ports[0].gids) {
      if (absl::StrCat(gid.index) == GidIndex() && gid.type == "RoCE v2") {
        return true;
      }
    }
    return false;
  }));
}

TEST_F(DeviceCacheRdmaTest, DeviceAddedAndDeletedAtRunTime) {
  const std::string netdev = "swdevt0";
  const std::string name = "rxeSwT";
  Sh("rdma link delete " + name + "; ip link del " + netdev);
  // Declared before the cache: its threads call the listener until it is
  // destroyed.
  std::vector<DeviceChange> changes;
  absl::Mutex mu;
  std::unique_ptr<DeviceCache> cache = StartCache();
  ASSERT_NE(cache, nullptr);
  cache->table().Subscribe([&](const DeviceChange& change) {
    absl::MutexLock lock(&mu);
    changes.push_back(change);
  });
  const int threads = ThreadCount();
  ASSERT_EQ(Sh(absl::StrCat("ip link add ", netdev,
                            " type dummy && ip addr "
                            "add 10.79.0.1/24 dev ",
                            netdev, " && ip link set ", netdev, " up"))
                .exit_code,
            0);
  Shell added =
      Sh(absl::StrCat("rdma link add ", name, " type rxe netdev ", netdev));
  ASSERT_EQ(added.exit_code, 0) << added.out;
  const absl::Time added_at = absl::Now();
  const bool opened = WaitFor(absl::Seconds(20), [&] {
    std::optional<DeviceRecord> record = cache->table().Find(name);
    return record.has_value() && record->state == DeviceState::kOpen;
  });
  std::cout << name << " open in the cache " << absl::Now() - added_at
            << " after rdma link add\n";
  EXPECT_TRUE(opened) << name << " never opened";
  bool described = false;
  const v1::DescribeDevicesResult after_add = DescribeDevices(*cache);
  for (const v1::Device& device : after_add.devices()) {
    described =
        described || (device.name() == name && device.state() == "open");
  }
  EXPECT_TRUE(described);
  EXPECT_EQ(ContextsOf(name), 1);         // swiftd's one context.
  EXPECT_EQ(ThreadCount(), threads + 1);  // Its event thread.

  // The kernel waits for every context of an rxe device to close before
  // `rdma link delete` returns: it returns because the cache let go.
  const absl::Time delete_at = absl::Now();
  Shell deleted = Sh("timeout 60 rdma link delete " + name);
  const absl::Duration delete_took = absl::Now() - delete_at;
  std::cout << "rdma link delete took " << delete_took << "\n";
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out;
  EXPECT_TRUE(WaitFor(absl::Seconds(20), [&] {
    std::optional<DeviceRecord> record = cache->table().Find(name);
    return record.has_value() && record->state == DeviceState::kRemoved;
  }));
  std::optional<DeviceRecord> record = cache->table().Find(name);
  ASSERT_TRUE(record.has_value());
  EXPECT_TRUE(
      absl::StrContains(record->error.message(), "was removed from the host"))
      << record->error;
  absl::StatusOr<std::shared_ptr<verbs::Context>> context =
      cache->table().Acquire(name);
  EXPECT_EQ(context.status().code(), absl::StatusCode::kUnavailable);
  {
    absl::MutexLock lock(&mu);
    ASSERT_GE(changes.size(), 2u);
    EXPECT_EQ(changes.back().device, name);
    EXPECT_EQ(changes.back().state, DeviceState::kRemoved);
  }
  bool reported_removed = false;
  const v1::DescribeDevicesResult after_delete = DescribeDevices(*cache);
  for (const v1::Device& device : after_delete.devices()) {
    reported_removed = reported_removed ||
                       (device.name() == name && device.state() == "removed");
  }
  EXPECT_TRUE(reported_removed);
  EXPECT_EQ(ThreadCount(), threads);  // Its event thread was joined.
  Sh("ip link del " + netdev);
  // The fixture's devices were not disturbed.
  std::optional<DeviceRecord> fixture = cache->table().Find(Device());
  ASSERT_TRUE(fixture.has_value());
  EXPECT_EQ(fixture->state, DeviceState::kOpen);
}

TEST_F(DeviceCacheRdmaTest, ShutdownJoinsThreadsAndClosesEveryContext) {
  const int contexts = ContextsOf(Device());
  const int threads = ThreadCount();
  ASSERT_GE(contexts, 0);
  std::unique_ptr<DeviceCache> cache = StartCache();
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(ContextsOf(Device()), contexts + 1);
  // The monitor plus one event thread per open device.
  EXPECT_EQ(ThreadCount(), threads + 1 + cache->open_count());
  cache->Shutdown();
  EXPECT_EQ(ThreadCount(), threads);
  cache.reset();
  EXPECT_EQ(ContextsOf(Device()), contexts);
}

}  // namespace
}  // namespace swift
