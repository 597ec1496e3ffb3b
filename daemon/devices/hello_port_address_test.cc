// HelloPortAddress(): the hello offers the port address of an open device's
// port 1 as the table describes it now, and nothing for a device that is
// not open or a port without a usable address.
#include "daemon/devices/hello_port_address.h"

#include <cstring>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

verbs::PortInfo Port(bool active, const std::string& gid) {
  verbs::PortInfo port;
  port.port_num = 1;
  port.active = active;
  port.state = active ? "ACTIVE" : "DOWN";
  port.active_mtu_bytes = 1024;
  port.link_layer = "Ethernet";
  verbs::GidInfo v2;
  v2.index = 1;
  v2.gid = gid;
  v2.type = "RoCE v2";
  port.gids.push_back(v2);
  return port;
}

DeviceRecord Record(const std::string& name, verbs::PortInfo port) {
  DeviceRecord record;
  record.name = name;
  record.state = DeviceState::kOpen;
  record.info.name = name;
  record.info.ports.push_back(std::move(port));
  return record;
}

TEST(HelloPortAddressTest, OffersTheOpenDevicesCurrentPortAddress) {
  DeviceTable table;
  table.Put(Record("rxeA", Port(true, "::ffff:10.77.0.1")), nullptr);
  std::optional<v1::CachedPortAddress> port = HelloPortAddress(table, "rxeA");
  ASSERT_TRUE(port.has_value());
  EXPECT_EQ(port->port_num(), 1u);
  EXPECT_EQ(port->link_layer(), IBV_LINK_LAYER_ETHERNET);
  EXPECT_EQ(port->active_mtu(), IBV_MTU_1024);
  EXPECT_EQ(port->gid_index(), 1u);
  ASSERT_EQ(port->gid().size(), 16u);
  const unsigned char mapped[16] = {0, 0, 0,    0,    0,  0,  0, 0,
                                    0, 0, 0xff, 0xff, 10, 77, 0, 1};
  EXPECT_EQ(std::memcmp(port->gid().data(), mapped, 16), 0);

  // The address changes with the table (a GID change event).
  table.UpdatePorts("rxeA", {Port(true, "::ffff:10.77.0.9")}, "GID change");
  port = HelloPortAddress(table, "rxeA");
  ASSERT_TRUE(port.has_value());
  EXPECT_EQ(static_cast<unsigned char>(port->gid()[15]), 9);
}

TEST(HelloPortAddressTest, OffersNothingUnusable) {
  DeviceTable table;
  EXPECT_FALSE(HelloPortAddress(table, "rxeA").has_value());
  table.Put(Record("rxeA", Port(false, "::ffff:10.77.0.1")), nullptr);
  EXPECT_FALSE(HelloPortAddress(table, "rxeA").has_value());  // port down
  table.Put(Record("rxeB", Port(true, "fe80::1")), nullptr);
  EXPECT_FALSE(HelloPortAddress(table, "rxeB").has_value());  // no IPv4 GID
  table.Put(Record("rxeC", Port(true, "::ffff:10.77.0.3")), nullptr);
  table.MarkRemoved("rxeC", absl::NotFoundError("rdma link delete"), "removed");
  EXPECT_FALSE(HelloPortAddress(table, "rxeC").has_value());
}

}  // namespace
}  // namespace swift
