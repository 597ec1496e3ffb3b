// swiftd on a real RDMA device (the Soft-RoCE guest): the device cache opens
// it, the Control API reports it, and swiftctl shows it.
#include <algorithm>

#include "absl/strings/match.h"
#include "client/control/control_client.h"
#include "common/testing/rdma_test_env.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::RunCommand;
using ::swift::testing::TestSwiftd;

class SwiftdRdmaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(swiftd_.ok());
    if (swiftd_.server().devices().entries().empty()) {
      if (swift::testing::RdmaRequired()) {
        FAIL() << "swiftd found no RDMA device, but SWIFT_RDMA_REQUIRED=1";
      }
      GTEST_SKIP() << "no RDMA device on this host";
    }
    ClientOptions options;
    options.socket_path = swiftd_.socket_path();
    auto client = ControlClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  TestSwiftd swiftd_;
  std::unique_ptr<ControlClient> client_;
};

TEST_F(SwiftdRdmaTest, StatusCountsTheOpenDevices) {
  absl::StatusOr<v1::GetStatusResponse> status = client_->GetStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_GE(status->devices_count(), 1u);
  EXPECT_EQ(status->devices_failed_count(), 0u);
  EXPECT_EQ(status->clients_count(), 1u);  // This test's client.
}

TEST_F(SwiftdRdmaTest, ListDevicesDescribesTheTestDevice) {
  absl::StatusOr<v1::ListDevicesResponse> devices = client_->ListDevices();
  ASSERT_TRUE(devices.ok()) << devices.status();
  const std::string name = swift::testing::TestDeviceName();
  auto it = std::find_if(
      devices->devices().begin(), devices->devices().end(),
      [&name](const v1::Device& device) { return device.name() == name; });
  ASSERT_NE(it, devices->devices().end()) << name << " not listed";
  const v1::Device& device = *it;
  EXPECT_TRUE(device.error().empty()) << device.error();
  EXPECT_FALSE(device.node_guid().empty());
  EXPECT_GT(device.max_qp(), 0u);
  EXPECT_GE(device.num_comp_vectors(), 1);
  EXPECT_GT(device.open_time_us(), 0u);
  ASSERT_EQ(device.ports_size(), 1);
  EXPECT_EQ(device.ports(0).state(), "ACTIVE");
  EXPECT_EQ(device.ports(0).link_layer(), "Ethernet");
  bool has_v2_ipv4 = false;
  for (const v1::Gid& gid : device.ports(0).gids()) {
    has_v2_ipv4 |= gid.type() == "RoCE v2" && gid.ipv4_mapped();
  }
  EXPECT_TRUE(has_v2_ipv4);
  if (absl::StartsWith(name, "rxe")) {
    EXPECT_FALSE(device.capabilities().context_import());
  }
}

TEST_F(SwiftdRdmaTest, SwiftctlDevicesShowsTheActivePort) {
  const std::string swiftctl =
      swift::testing::RunfilePath("tools/swiftctl/swiftctl");
  auto result =
      RunCommand(swiftctl + " --socket=" + swiftd_.socket_path() + " devices");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const std::string name = swift::testing::TestDeviceName();
  EXPECT_TRUE(absl::StrContains(result.out, name)) << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "ACTIVE")) << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "RoCE v2")) << result.out;
}

}  // namespace
}  // namespace swift
