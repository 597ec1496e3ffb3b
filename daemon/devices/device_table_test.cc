// DeviceTable's state machine with fake records: what opens, port events,
// removal and return do to the records, the generation and the listeners.
#include "daemon/devices/device_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace swift {
namespace {

verbs::PortInfo Port(const std::string& state) {
  verbs::PortInfo port;
  port.port_num = 1;
  port.state = state;
  port.active = state == "ACTIVE";
  port.active_mtu_bytes = 1024;
  verbs::GidInfo gid;
  gid.index = 1;
  gid.gid = "::ffff:10.77.0.1";
  gid.type = "RoCE v2";
  gid.netdev = "vethA";
  port.gids.push_back(gid);
  return port;
}

DeviceRecord OpenRecord(const std::string& name) {
  DeviceRecord record;
  record.name = name;
  record.state = DeviceState::kOpen;
  record.info.name = name;
  record.info.ports.push_back(Port("ACTIVE"));
  return record;
}

class DeviceTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_.Subscribe([this](const DeviceChange& change) {
      changes_.push_back(change);
      // A listener may read the table: it sees the change already made.
      std::optional<DeviceRecord> record = table_.Find(change.device);
      ASSERT_TRUE(record.has_value());
      EXPECT_EQ(record->state, change.state);
    });
  }

  DeviceTable table_;
  std::vector<DeviceChange> changes_;
};

TEST_F(DeviceTableTest, PutOpensAndCountsAGeneration) {
  EXPECT_EQ(table_.generation(), 0u);
  EXPECT_EQ(table_.Put(OpenRecord("rxeA"), nullptr), 1u);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].device, "rxeA");
  EXPECT_EQ(changes_[0].state, DeviceState::kOpen);
  EXPECT_EQ(changes_[0].what, "opened");
  uint64_t generation = 0;
  std::vector<DeviceRecord> records = table_.Snapshot(&generation);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(generation, 1u);
  EXPECT_EQ(records[0].generation, 1u);
  EXPECT_TRUE(table_.Acquire("rxeA").ok());
}

TEST_F(DeviceTableTest, PortEventChangesThePortOnceAndOnlyWhenItDiffers) {
  table_.Put(OpenRecord("rxeA"), nullptr);
  EXPECT_TRUE(table_.UpdatePorts("rxeA", {Port("DOWN")}, "PORT_ERR on port 1"));
  std::optional<DeviceRecord> record = table_.Find("rxeA");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->info.ports[0].state, "DOWN");
  EXPECT_FALSE(record->info.ports[0].active);
  EXPECT_EQ(record->last_event, "PORT_ERR on port 1");
  EXPECT_EQ(table_.generation(), 2u);
  // The same state again (a second event for one change): nothing happens.
  EXPECT_FALSE(
      table_.UpdatePorts("rxeA", {Port("DOWN")}, "PORT_ERR on port 1"));
  EXPECT_EQ(table_.generation(), 2u);
  EXPECT_TRUE(
      table_.UpdatePorts("rxeA", {Port("ACTIVE")}, "PORT_ACTIVE on port 1"));
  EXPECT_EQ(table_.Find("rxeA")->info.ports[0].state, "ACTIVE");
  ASSERT_EQ(changes_.size(), 3u);
  EXPECT_EQ(changes_[2].what, "PORT_ACTIVE on port 1");
}

TEST_F(DeviceTableTest, GidChangeIsAPortChange) {
  table_.Put(OpenRecord("rxeA"), nullptr);
  verbs::PortInfo port = Port("ACTIVE");
  port.gids[0].gid = "::ffff:10.77.0.9";
  EXPECT_TRUE(table_.UpdatePorts("rxeA", {port}, "GID_CHANGE on port 1"));
  EXPECT_EQ(table_.Find("rxeA")->info.ports[0].gids[0].gid, "::ffff:10.77.0.9");
}

TEST_F(DeviceTableTest, RemovalKeepsTheRecordAndRefusesTheContext) {
  table_.Put(OpenRecord("rxeA"), nullptr);
  const absl::Status reason =
      absl::UnavailableError("RDMA device rxeA was removed from the host");
  EXPECT_TRUE(table_.MarkRemoved("rxeA", reason, "removed"));
  std::optional<DeviceRecord> record = table_.Find("rxeA");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, DeviceState::kRemoved);
  EXPECT_EQ(record->error, reason);
  EXPECT_FALSE(record->info.ports[0].active);
  absl::StatusOr<std::shared_ptr<verbs::Context>> context =
      table_.Acquire("rxeA");
  EXPECT_EQ(context.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(context.status().message().find("removed from the host"),
            absl::string_view::npos)
      << context.status();
  ASSERT_EQ(changes_.size(), 2u);
  EXPECT_EQ(changes_[1].state, DeviceState::kRemoved);
  EXPECT_EQ(changes_[1].what, reason.message());
  // Nothing more happens to a removed device until it comes back.
  EXPECT_FALSE(table_.MarkRemoved("rxeA", reason, "removed"));
  EXPECT_FALSE(table_.UpdatePorts("rxeA", {Port("ACTIVE")}, "PORT_ACTIVE"));
  EXPECT_EQ(changes_.size(), 2u);
}

TEST_F(DeviceTableTest, ADeviceThatComesBackIsOpenAgainInItsPlace) {
  table_.Put(OpenRecord("rxeA"), nullptr);
  table_.Put(OpenRecord("rxeB"), nullptr);
  table_.MarkRemoved("rxeA", absl::UnavailableError("gone"), "removed");
  table_.Put(OpenRecord("rxeA"), nullptr);
  std::vector<DeviceRecord> records = table_.Snapshot();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].name, "rxeA");
  EXPECT_EQ(records[0].state, DeviceState::kOpen);
  EXPECT_TRUE(records[0].error.ok());
  EXPECT_EQ(records[0].generation, 4u);
  EXPECT_TRUE(table_.Acquire("rxeA").ok());
}

TEST_F(DeviceTableTest, FailedDeviceSaysWhy) {
  DeviceRecord failed;
  failed.name = "mlx5_0";
  failed.state = DeviceState::kFailed;
  failed.error = absl::PermissionDeniedError("ibv_open_device(mlx5_0)");
  table_.Put(failed, nullptr);
  EXPECT_EQ(table_.Acquire("mlx5_0").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(table_.UpdatePorts("mlx5_0", {Port("ACTIVE")}, "PORT_ACTIVE"));
  EXPECT_EQ(changes_.back().what, "ibv_open_device(mlx5_0)");
}

TEST_F(DeviceTableTest, UnknownDeviceIsNotFoundAndNamesTheKnownOnes) {
  table_.Put(OpenRecord("rxeA"), nullptr);
  absl::StatusOr<std::shared_ptr<verbs::Context>> context =
      table_.Acquire("rxeZ");
  EXPECT_EQ(context.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(context.status().message().find("rxeA"), absl::string_view::npos);
  EXPECT_FALSE(table_.MarkRemoved("rxeZ", absl::UnavailableError("x"), "x"));
}

TEST_F(DeviceTableTest, UnsubscribedListenerIsNotCalledAgain) {
  int calls = 0;
  const int id = table_.Subscribe([&calls](const DeviceChange&) { ++calls; });
  table_.Put(OpenRecord("rxeA"), nullptr);
  table_.Unsubscribe(id);
  table_.MarkRemoved("rxeA", absl::UnavailableError("gone"), "removed");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(changes_.size(), 2u);  // The fixture's listener still hears.
}

TEST(DeviceStateTest, NamesReadAsTheReportShowsThem) {
  EXPECT_EQ(DeviceStateName(DeviceState::kOpen), "open");
  EXPECT_EQ(DeviceStateName(DeviceState::kFailed), "failed");
  EXPECT_EQ(DeviceStateName(DeviceState::kRemoved), "removed");
}

}  // namespace
}  // namespace swift
