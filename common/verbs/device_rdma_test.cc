// Device discovery on a real RDMA device (the Soft-RoCE guest).
#include <gtest/gtest.h>

#include <algorithm>

#include "common/testing/rdma_test_env.h"
#include "common/verbs/context.h"
#include "common/verbs/device_info.h"
#include "common/verbs/device_list.h"

namespace swift::verbs {
namespace {

class DeviceRdmaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<DeviceList> devices = DeviceList::Get();
    ASSERT_TRUE(devices.ok()) << devices.status();
    if (devices->empty()) {
      if (swift::testing::RdmaRequired()) {
        FAIL() << "no RDMA device, but SWIFT_RDMA_REQUIRED=1";
      }
      GTEST_SKIP() << "no RDMA device on this host";
    }
  }
};

TEST_F(DeviceRdmaTest, TestDeviceIsListedAndOpens) {
  absl::StatusOr<DeviceList> devices = DeviceList::Get();
  ASSERT_TRUE(devices.ok());
  const std::string name = swift::testing::TestDeviceName();
  std::vector<std::string> names = devices->Names();
  ASSERT_NE(std::find(names.begin(), names.end(), name), names.end())
      << name << " not among the devices";
  absl::StatusOr<std::shared_ptr<Context>> context = Context::OpenByName(name);
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_EQ((*context)->name(), name);
}

TEST_F(DeviceRdmaTest, InfoShowsAnActiveRoceV2PortWithAnIpv4Gid) {
  absl::StatusOr<std::shared_ptr<Context>> context =
      Context::OpenByName(swift::testing::TestDeviceName());
  ASSERT_TRUE(context.ok()) << context.status();
  absl::StatusOr<DeviceInfo> info = QueryDeviceInfo((*context)->get());
  ASSERT_TRUE(info.ok()) << info.status();

  EXPECT_EQ(info->name, swift::testing::TestDeviceName());
  EXPECT_NE(info->node_guid, 0u);
  EXPECT_GT(info->max_qp, 0u);
  EXPECT_GT(info->max_cq, 0u);
  EXPECT_GT(info->max_mr, 0u);
  EXPECT_GE(info->num_comp_vectors, 1);
  ASSERT_EQ(info->ports.size(), 1u);
  const PortInfo& port = info->ports[0];
  EXPECT_TRUE(port.active) << port.state;
  EXPECT_EQ(port.link_layer, "Ethernet");
  EXPECT_GE(port.active_mtu_bytes, 256u);
  bool has_v2_ipv4 = std::any_of(
      port.gids.begin(), port.gids.end(), [](const GidInfo& gid) {
        return gid.type == "RoCE v2" && gid.ipv4_mapped;
      });
  EXPECT_TRUE(has_v2_ipv4) << "no RoCE v2 IPv4-mapped GID on "
                           << info->name;
  // rxe has no import_context op: sharing by import must be reported as
  // unsupported (measured: EOPNOTSUPP).
  if (info->name.rfind("rxe", 0) == 0) {
    EXPECT_FALSE(info->context_import_supported);
  }
}

}  // namespace
}  // namespace swift::verbs
