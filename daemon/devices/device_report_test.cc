// The ListDevices / DescribeDevices messages built from records.
#include "daemon/devices/device_report.h"

#include <gtest/gtest.h>

namespace swift {
namespace {

DeviceRecord RxeRecord() {
  DeviceRecord record;
  record.name = "rxeA";
  record.state = DeviceState::kOpen;
  record.generation = 3;
  record.info.name = "rxeA";
  record.info.num_comp_vectors = 1;
  record.info.max_qp = 1024;
  record.info.atomic_cap = "HCA";
  record.info.uverbs_device = "uverbs0";
  record.provider_library =
      "/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so";
  record.driver = "rxe";
  record.context_import = {false, "ibv_import_device: Operation not supported"};
  record.fork_child_post = {false, "needs the ioctl doorbell"};
  record.doorbell = "write-command";
  record.hardware_irqs = {false, "software device"};
  verbs::PortInfo port;
  port.port_num = 1;
  port.state = "ACTIVE";
  port.speed = "10.0 Gbps";
  port.width = "1X";
  verbs::GidInfo gid;
  gid.index = 1;
  gid.gid = "::ffff:10.77.0.1";
  gid.type = "RoCE v2";
  gid.ipv4_mapped = true;
  gid.netdev = "vethA";
  gid.netdev_ifindex = 3;
  port.gids.push_back(gid);
  record.info.ports.push_back(port);
  return record;
}

TEST(DeviceReportTest, OpenDeviceCarriesProviderCapabilitiesAndGids) {
  v1::Device device = DeviceToProto(RxeRecord());
  EXPECT_EQ(device.state(), "open");
  EXPECT_TRUE(device.error().empty());
  EXPECT_EQ(device.driver(), "rxe");
  EXPECT_EQ(device.provider_library(),
            "/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so");
  EXPECT_EQ(device.uverbs_device(), "uverbs0");
  EXPECT_EQ(device.atomic_cap(), "HCA");
  EXPECT_EQ(device.generation(), 3u);
  EXPECT_FALSE(device.capabilities().context_import());
  EXPECT_EQ(device.capabilities().context_import_detail(),
            "ibv_import_device: Operation not supported");
  EXPECT_FALSE(device.capabilities().fork_child_post());
  EXPECT_EQ(device.capabilities().doorbell(), "write-command");
  EXPECT_FALSE(device.capabilities().hardware_irqs());
  ASSERT_EQ(device.ports_size(), 1);
  EXPECT_EQ(device.ports(0).speed(), "10.0 Gbps");
  ASSERT_EQ(device.ports(0).gids_size(), 1);
  EXPECT_EQ(device.ports(0).gids(0).type(), "RoCE v2");
  EXPECT_EQ(device.ports(0).gids(0).netdev(), "vethA");
  EXPECT_EQ(device.ports(0).gids(0).netdev_ifindex(), 3u);
}

TEST(DeviceReportTest, RemovedDeviceKeepsItsLastStateAndSaysWhy) {
  DeviceRecord record = RxeRecord();
  record.state = DeviceState::kRemoved;
  record.error = absl::UnavailableError("RDMA device rxeA was removed");
  v1::Device device = DeviceToProto(record);
  EXPECT_EQ(device.state(), "removed");
  EXPECT_EQ(device.error(), "UNAVAILABLE: RDMA device rxeA was removed");
  EXPECT_EQ(device.driver(), "rxe");
  EXPECT_EQ(device.ports_size(), 1);
}

TEST(DeviceReportTest, FailedDeviceHasOnlyItsNameStateAndError) {
  DeviceRecord record;
  record.name = "broken0";
  record.state = DeviceState::kFailed;
  record.error = absl::PermissionDeniedError("ibv_open_device(broken0)");
  v1::Device device = DeviceToProto(record);
  EXPECT_EQ(device.state(), "failed");
  EXPECT_EQ(device.error(), "PERMISSION_DENIED: ibv_open_device(broken0)");
  EXPECT_EQ(device.ports_size(), 0);
  EXPECT_TRUE(device.provider_library().empty());
}

TEST(DeviceReportTest, ListCarriesEveryRecordInOrderAndTheGeneration) {
  DeviceRecord second = RxeRecord();
  second.name = "rxeB";
  v1::ListDevicesResponse list =
      ListDevicesFromRecords({RxeRecord(), second}, 9);
  ASSERT_EQ(list.devices_size(), 2);
  EXPECT_EQ(list.devices(0).name(), "rxeA");
  EXPECT_EQ(list.devices(1).name(), "rxeB");
  EXPECT_EQ(list.generation(), 9u);
}

}  // namespace
}  // namespace swift
