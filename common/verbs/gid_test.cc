// GID selection on fake tables, and GID text forms.
#include "common/verbs/gid.h"

#include <gtest/gtest.h>

namespace swift::verbs {
namespace {

ibv_gid_entry Entry(uint32_t index, uint32_t port, uint32_t type,
                    const char* gid) {
  ibv_gid_entry entry = {};
  entry.gid = *ParseGid(gid);
  entry.gid_index = index;
  entry.port_num = port;
  entry.gid_type = type;
  return entry;
}

// What rxe on a netdev with one IPv4 address reports: link-local v1/v2,
// then the IPv4-mapped address as v1 and v2.
std::vector<ibv_gid_entry> RxeLikeTable() {
  return {
      Entry(0, 1, IBV_GID_TYPE_ROCE_V1, "fe80::5054:ff:fe12:3456"),
      Entry(1, 1, IBV_GID_TYPE_ROCE_V2, "fe80::5054:ff:fe12:3456"),
      Entry(2, 1, IBV_GID_TYPE_ROCE_V1, "::ffff:192.168.77.1"),
      Entry(3, 1, IBV_GID_TYPE_ROCE_V2, "::ffff:192.168.77.1"),
  };
}

TEST(GidSelectionTest, PicksTheRoceV2Ipv4MappedEntry) {
  absl::StatusOr<uint32_t> index = SelectRoceV2Ipv4GidIndex(RxeLikeTable(), 1);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(*index, 3u);
}

TEST(GidSelectionTest, PicksTheLowestIndexWhateverTheOrder) {
  std::vector<ibv_gid_entry> table = {
      Entry(9, 1, IBV_GID_TYPE_ROCE_V2, "::ffff:10.0.0.9"),
      Entry(4, 1, IBV_GID_TYPE_ROCE_V2, "::ffff:10.0.0.4"),
      Entry(6, 1, IBV_GID_TYPE_ROCE_V2, "::ffff:10.0.0.6"),
  };
  EXPECT_EQ(*SelectRoceV2Ipv4GidIndex(table, 1), 4u);
}

TEST(GidSelectionTest, FiltersByAddressWhenAsked) {
  std::vector<ibv_gid_entry> table = RxeLikeTable();
  table.push_back(Entry(5, 1, IBV_GID_TYPE_ROCE_V2, "::ffff:10.77.0.2"));
  EXPECT_EQ(*SelectRoceV2Ipv4GidIndex(table, 1, "10.77.0.2"), 5u);
  EXPECT_EQ(*SelectRoceV2Ipv4GidIndex(table, 1, "192.168.77.1"), 3u);
  EXPECT_EQ(SelectRoceV2Ipv4GidIndex(table, 1, "10.1.1.1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(SelectRoceV2Ipv4GidIndex(table, 1, "not-an-ip").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GidSelectionTest, IgnoresOtherPortsAndRoceV1) {
  std::vector<ibv_gid_entry> table = {
      Entry(0, 2, IBV_GID_TYPE_ROCE_V2, "::ffff:10.0.0.2"),
      Entry(1, 1, IBV_GID_TYPE_ROCE_V1, "::ffff:10.0.0.1"),
      Entry(2, 1, IBV_GID_TYPE_ROCE_V2, "fe80::1"),
  };
  absl::Status status = SelectRoceV2Ipv4GidIndex(table, 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  // The message lists what port 1 has, so a human sees why.
  EXPECT_NE(status.message().find("1=::ffff:10.0.0.1 (RoCE v1)"),
            absl::string_view::npos)
      << status;
  EXPECT_EQ(status.message().find("10.0.0.2"), absl::string_view::npos)
      << status;
  EXPECT_EQ(*SelectRoceV2Ipv4GidIndex(table, 2), 0u);
}

TEST(GidSelectionTest, EmptyTableIsNotFound) {
  absl::Status status = SelectRoceV2Ipv4GidIndex({}, 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("none"), absl::string_view::npos);
}

TEST(GidTextTest, ParsesIpv6AndIpv4AndRoundTrips) {
  absl::StatusOr<ibv_gid> v4 = ParseGid("10.77.0.1");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(IsIpv4MappedGid(*v4));
  EXPECT_EQ(GidToString(*v4), "::ffff:10.77.0.1");
  EXPECT_EQ(v4->raw[12], 10);
  EXPECT_EQ(v4->raw[15], 1);

  absl::StatusOr<ibv_gid> v6 = ParseGid("fe80::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_FALSE(IsIpv4MappedGid(*v6));
  EXPECT_EQ(GidToString(*v6), "fe80::1");

  EXPECT_EQ(ParseGid("rxe0").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GidTextTest, NamesGidTypes) {
  EXPECT_EQ(GidTypeName(IBV_GID_TYPE_ROCE_V2), "RoCE v2");
  EXPECT_EQ(GidTypeName(IBV_GID_TYPE_ROCE_V1), "RoCE v1");
  EXPECT_EQ(GidTypeName(IBV_GID_TYPE_IB), "IB");
  EXPECT_EQ(GidTypeName(77), "type 77");
}

}  // namespace
}  // namespace swift::verbs
