// The Control API messages survive the wire and JSON unchanged.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "proto/swift.pb.h"

namespace swift {
namespace {

v1::Device SampleDevice() {
  v1::Device device;
  device.set_name("rxe0");
  device.set_node_guid("5254:00ff:fe12:3456");
  device.set_num_comp_vectors(2);
  device.set_max_qp(1048560);
  device.mutable_capabilities()->set_context_import(false);
  v1::Port* port = device.add_ports();
  port->set_port_num(1);
  port->set_state("ACTIVE");
  port->set_active_mtu_bytes(1024);
  v1::Gid* gid = port->add_gids();
  gid->set_index(1);
  gid->set_gid("::ffff:10.77.0.1");
  gid->set_type("RoCE v2");
  gid->set_ipv4_mapped(true);
  return device;
}

TEST(SwiftProtoTest, ListDevicesRoundTripsThroughTheWireFormat) {
  v1::ListDevicesResponse sent;
  *sent.add_devices() = SampleDevice();
  std::string wire;
  ASSERT_TRUE(sent.SerializeToString(&wire));

  v1::ListDevicesResponse received;
  ASSERT_TRUE(received.ParseFromString(wire));
  ASSERT_EQ(received.devices_size(), 1);
  const v1::Device& device = received.devices(0);
  EXPECT_EQ(device.name(), "rxe0");
  EXPECT_EQ(device.ports(0).gids(0).gid(), "::ffff:10.77.0.1");
  EXPECT_TRUE(device.ports(0).gids(0).ipv4_mapped());
  EXPECT_EQ(received.SerializeAsString(), wire);
}

TEST(SwiftProtoTest, StatusRoundTripsThroughJson) {
  v1::GetStatusResponse sent;
  sent.set_version("0.1.0");
  sent.set_api_version(1);
  sent.set_uptime_us(1234567);
  sent.set_pid(42);
  sent.set_clients_count(3);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(sent, &json).ok());
  v1::GetStatusResponse received;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &received).ok());
  EXPECT_EQ(received.SerializeAsString(), sent.SerializeAsString());
}

TEST(SwiftProtoTest, UnknownFieldsFromANewerPeerAreKept) {
  // A newer swiftd may add fields; an older client must still parse and
  // forward them unchanged.
  v1::PingResponse newer;
  newer.set_sequence(7);
  std::string wire = newer.SerializeAsString();
  wire.append("\xa8\x06\x01", 3);  // Field 101, varint 1.
  v1::PingResponse older;
  ASSERT_TRUE(older.ParseFromString(wire));
  EXPECT_EQ(older.sequence(), 7u);
  EXPECT_EQ(older.SerializeAsString(), wire);
}

}  // namespace
}  // namespace swift
