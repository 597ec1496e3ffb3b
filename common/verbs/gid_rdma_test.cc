// GID selection on a real device's table. The guest harness names the GID
// index in RXE_GID_INDEX, so the other device tests never exercise the
// lookup itself: this test does, and checks it against the harness.
#include <gtest/gtest.h>

#include <set>

#include "common/testing/rdma_test_env.h"
#include "common/verbs/context.h"
#include "common/verbs/gid.h"
#include "common/verbs/port_address.h"
#include "common/verbs/rdma_test_util.h"

namespace swift::verbs {
namespace {

using ::swift::verbs::testing::RdmaTest;

class GidRdmaTest : public RdmaTest {
 protected:
  void SetUp() override {
    RdmaTest::SetUp();
    if (IsSkipped() || HasFailure()) {
      return;
    }
    absl::StatusOr<std::shared_ptr<Context>> context =
        Context::OpenByName(device().name);
    ASSERT_TRUE(context.ok()) << context.status();
    context_ = *context;
  }

  std::shared_ptr<Context> context_;
};

TEST_F(GidRdmaTest, FindsTheRoceV2Ipv4GidOfThePort) {
  absl::StatusOr<std::vector<ibv_gid_entry>> table =
      QueryGidTable(context_->get());
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_FALSE(table->empty());

  absl::StatusOr<uint32_t> index = FindRoceV2Ipv4GidIndex(context_->get(), 1);
  ASSERT_TRUE(index.ok()) << index.status();
  absl::StatusOr<ibv_gid_entry> entry =
      QueryGidEntry(context_->get(), 1, *index);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->gid_type, IBV_GID_TYPE_ROCE_V2);
  EXPECT_TRUE(IsIpv4MappedGid(entry->gid)) << GidToString(entry->gid);

  // Agrees with what the harness found from sysfs, when it says.
  if (device().gid_index.has_value()) {
    EXPECT_EQ(*index, *device().gid_index);
  }
  const std::string ip = swift::testing::EnvOr("RXE_IP", "");
  if (!ip.empty() && ip != "127.0.0.1") {
    EXPECT_EQ(GidToString(entry->gid), "::ffff:" + ip);
    absl::StatusOr<uint32_t> by_ip =
        FindRoceV2Ipv4GidIndex(context_->get(), 1, ip);
    ASSERT_TRUE(by_ip.ok()) << by_ip.status();
    EXPECT_EQ(*by_ip, *index);
  }
}

TEST_F(GidRdmaTest, PortAddressWithoutAnIndexUsesTheRoceV2Ipv4Gid) {
  absl::StatusOr<uint32_t> index = FindRoceV2Ipv4GidIndex(context_->get(), 1);
  ASSERT_TRUE(index.ok()) << index.status();
  absl::StatusOr<PortAddress> port = QueryPortAddress(*context_, 1);
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(port->gid_index, *index);
  EXPECT_TRUE(IsIpv4MappedGid(port->gid));
  // The GID taken from the table query is the entry's own.
  absl::StatusOr<ibv_gid_entry> entry =
      QueryGidEntry(context_->get(), 1, *index);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(GidToString(port->gid), GidToString(entry->gid));
  EXPECT_EQ(port->link_layer, IBV_LINK_LAYER_ETHERNET);
  EXPECT_GE(port->active_mtu, IBV_MTU_256);
  EXPECT_LE(port->active_mtu, IBV_MTU_4096);
}

TEST_F(GidRdmaTest, EmptyOrOutOfRangeIndexIsNotFound) {
  ibv_port_attr attr = {};
  ASSERT_EQ(ibv_query_port(context_->get(), 1, &attr), 0);
  absl::StatusOr<std::vector<ibv_gid_entry>> table =
      QueryGidTable(context_->get());
  ASSERT_TRUE(table.ok()) << table.status();
  std::set<uint32_t> used;
  for (const ibv_gid_entry& entry : *table) {
    used.insert(entry.gid_index);
  }
  uint32_t empty = 0;
  while (used.count(empty) != 0) {
    ++empty;
  }
  ASSERT_LT(empty, static_cast<uint32_t>(attr.gid_tbl_len));
  EXPECT_EQ(QueryGidEntry(context_->get(), 1, empty).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      QueryGidEntry(context_->get(), 1, attr.gid_tbl_len + 10).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(QueryPortAddress(*context_, 1, empty).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace swift::verbs
