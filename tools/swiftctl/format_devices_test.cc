// `swiftctl devices` tables: state, provider, capabilities with reasons,
// GIDs with types and netdevs, removed and failed devices.
#include "tools/swiftctl/format_devices.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace swift::swiftctl {
namespace {

v1::ListDevicesResponse Sample() {
  v1::ListDevicesResponse response;
  response.set_generation(7);
  v1::Device* device = response.add_devices();
  device->set_name("rxeA");
  device->set_state("open");
  device->set_driver("rxe");
  device->set_provider_library(
      "/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so");
  device->set_uverbs_device("uverbs0");
  device->set_num_comp_vectors(1);
  v1::Capabilities* caps = device->mutable_capabilities();
  caps->set_context_import_detail("ibv_import_device: Operation not supported");
  caps->set_fork_child_post_detail("needs the ioctl doorbell");
  caps->set_hardware_irqs_detail("software device");
  v1::Port* port = device->add_ports();
  port->set_port_num(1);
  port->set_state("ACTIVE");
  port->set_active_mtu_bytes(1024);
  port->set_max_mtu_bytes(4096);
  v1::Gid* gid = port->add_gids();
  gid->set_index(1);
  gid->set_type("RoCE v2");
  gid->set_gid("::ffff:10.77.0.1");
  gid->set_netdev("vethA");
  v1::Device* removed = response.add_devices();
  *removed = *device;
  removed->set_name("rxeX");
  removed->set_state("removed");
  removed->set_error("UNAVAILABLE: RDMA device rxeX was removed from the host");
  v1::Device* failed = response.add_devices();
  failed->set_name("bad0");
  failed->set_state("failed");
  failed->set_error("PERMISSION_DENIED: ibv_open_device(bad0)");
  return response;
}

TEST(FormatDevicesTest, ShowsStateProviderAndEachCapabilityWithItsReason) {
  const std::string table = FormatDevices(Sample());
  EXPECT_TRUE(absl::StrContains(table,
                                "rxeA    open     rxe     "
                                "librxe-rdmav34.so  uverbs0"))
      << table;
  EXPECT_TRUE(absl::StrContains(
      table, "rxeA: import: no: ibv_import_device: Operation not supported"))
      << table;
  EXPECT_TRUE(absl::StrContains(
      table, "rxeA: fork child post: no: needs the ioctl doorbell"))
      << table;
  EXPECT_TRUE(
      absl::StrContains(table, "rxeA: hardware IRQs: no: software device"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "RoCE v2  ::ffff:10.77.0.1  vethA"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "generation 7")) << table;
}

TEST(FormatDevicesTest, RemovedAndFailedDevicesSayWhy) {
  const std::string table = FormatDevices(Sample());
  EXPECT_TRUE(absl::StrContains(table, "rxeX    removed")) << table;
  EXPECT_TRUE(absl::StrContains(
      table, "rxeX: removed: UNAVAILABLE: RDMA device rxeX was removed"))
      << table;
  EXPECT_TRUE(absl::StrContains(
      table, "bad0: cannot be used: PERMISSION_DENIED: ibv_open_device"))
      << table;
}

TEST(FormatDevicesTest, NoDevicesGivesAHint) {
  EXPECT_TRUE(absl::StartsWith(FormatDevices(v1::ListDevicesResponse()),
                               "No RDMA devices."));
}

}  // namespace
}  // namespace swift::swiftctl
