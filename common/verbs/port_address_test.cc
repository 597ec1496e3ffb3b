// PortAddressFromInfo(): a port as swiftd's device cache describes it gives
// the address QueryPortAddress() would read from the device (checked
// against the real device in gid_rdma_test and by every session in the
// guest), and the same refusals.
#include "common/verbs/port_address.h"

#include <string>

#include "common/verbs/gid.h"
#include "gtest/gtest.h"

namespace swift::verbs {
namespace {

GidInfo Gid(uint32_t index, const std::string& gid, const std::string& type) {
  GidInfo info;
  info.index = index;
  info.gid = gid;
  info.type = type;
  return info;
}

// An rxe port as QueryPorts() lists it: link-local v1/v2, then the
// IPv4-mapped v1/v2 pair.
PortInfo RocePort() {
  PortInfo port;
  port.port_num = 1;
  port.state = "ACTIVE";
  port.active = true;
  port.active_mtu_bytes = 1024;
  port.link_layer = "Ethernet";
  port.gids = {Gid(0, "fe80::1", "RoCE v1"), Gid(1, "fe80::1", "RoCE v2"),
               Gid(2, "::ffff:10.77.0.1", "RoCE v1"),
               Gid(3, "::ffff:10.77.0.1", "RoCE v2")};
  return port;
}

TEST(PortAddressFromInfoTest, ARocePortUsesItsRoceV2Ipv4Gid) {
  absl::StatusOr<PortAddress> address = PortAddressFromInfo(RocePort());
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->port_num, 1);
  EXPECT_EQ(address->link_layer, IBV_LINK_LAYER_ETHERNET);
  EXPECT_EQ(address->lid, 0);
  EXPECT_EQ(address->active_mtu, IBV_MTU_1024);
  EXPECT_EQ(address->gid_index, 3u);
  EXPECT_EQ(GidToString(address->gid), "::ffff:10.77.0.1");
}

TEST(PortAddressFromInfoTest, AnInfinibandPortUsesIndexZeroAndItsLid) {
  PortInfo port;
  port.port_num = 1;
  port.active = true;
  port.active_mtu_bytes = 4096;
  port.link_layer = "InfiniBand";
  port.lid = 7;
  port.gids = {Gid(0, "fe80::2", "IB")};
  absl::StatusOr<PortAddress> address = PortAddressFromInfo(port);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->link_layer, IBV_LINK_LAYER_INFINIBAND);
  EXPECT_EQ(address->lid, 7);
  EXPECT_EQ(address->active_mtu, IBV_MTU_4096);
  EXPECT_EQ(address->gid_index, 0u);
  EXPECT_EQ(GidToString(address->gid), "fe80::2");
}

TEST(PortAddressFromInfoTest, RefusesWhatTheQueryRefuses) {
  PortInfo down = RocePort();
  down.active = false;
  down.state = "DOWN";
  EXPECT_EQ(PortAddressFromInfo(down).status().code(),
            absl::StatusCode::kUnavailable);

  PortInfo no_v2 = RocePort();
  no_v2.gids.pop_back();
  EXPECT_EQ(PortAddressFromInfo(no_v2).status().code(),
            absl::StatusCode::kNotFound);

  PortInfo odd_mtu = RocePort();
  odd_mtu.active_mtu_bytes = 1500;
  EXPECT_EQ(PortAddressFromInfo(odd_mtu).status().code(),
            absl::StatusCode::kInvalidArgument);

  PortInfo bad_gid = RocePort();
  bad_gid.gids[3].gid = "not a gid";
  EXPECT_FALSE(PortAddressFromInfo(bad_gid).ok());

  PortInfo far_index = RocePort();
  far_index.gids[3].index = 300;
  EXPECT_EQ(PortAddressFromInfo(far_index).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swift::verbs
