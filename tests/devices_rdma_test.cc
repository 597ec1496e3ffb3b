// swiftd's device cache end to end: `swiftctl devices` and the fast path's
// describe_devices against a real swiftd, before and after an rxe device is
// added and deleted at run time (the guest's rxeA/rxeB stay untouched).
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/seqpacket_socket.h"
#include "common/testing/rdma_test_env.h"
#include "common/version.h"
#include "proto/fast_path.pb.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::CommandResult;
using ::swift::testing::RunCommand;
using ::swift::testing::TestSwiftd;

// One describe_devices call on a fresh CALLS connection, as any local
// process would make it.
v1::FastResponse Describe(TestSwiftd& swiftd) {
  v1::FastResponse response;
  auto socket =
      SeqpacketSocket::Connect(swiftd.server().fast_path_socket_path());
  EXPECT_TRUE(socket.ok()) << socket.status();
  if (!socket.ok()) {
    return response;
  }
  v1::FastRequest hello;
  hello.set_call_id(1);
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_client_name("devices_rdma_test");
  EXPECT_TRUE(socket->Send(hello.SerializeAsString()).ok());
  EXPECT_TRUE(socket->Receive().ok());
  v1::FastRequest request;
  request.set_call_id(2);
  request.mutable_describe_devices();
  EXPECT_TRUE(socket->Send(request.SerializeAsString()).ok());
  auto message = socket->Receive();
  EXPECT_TRUE(message.ok() && response.ParseFromString(message->data));
  return response;
}

std::string Swiftctl(TestSwiftd& swiftd, const std::string& flags = "") {
  CommandResult result = RunCommand(
      swift::testing::RunfilePath("tools/swiftctl/swiftctl") +
      " --socket=" + swiftd.socket_path() + " " + flags + " devices");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

const v1::Device* Named(const v1::DescribeDevicesResult& result,
                        const std::string& name) {
  for (const v1::Device& device : result.devices()) {
    if (device.name() == name) {
      return &device;
    }
  }
  return nullptr;
}

// Host-level: any caller gets the same devices ListDevices lists.
TEST(DevicesTest, DescribeDevicesAnswersLikeListDevices) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  v1::FastResponse response = Describe(swiftd);
  ASSERT_EQ(response.code(), 0) << response.message();
  ASSERT_TRUE(response.has_describe_devices());
  const auto entries = swiftd.server().devices().entries();
  ASSERT_EQ(response.describe_devices().devices_size(),
            static_cast<int>(entries.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(response.describe_devices().devices(i).name(), entries[i].name);
  }
  EXPECT_EQ(response.describe_devices().generation(),
            swiftd.server().devices().table().generation());
}

TEST(DevicesTest, SwiftctlAndDescribeFollowADeviceAddedAndDeleted) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  if (swiftd.server().devices().open_count() == 0) {
    if (swift::testing::RdmaRequired()) {
      FAIL() << "swiftd found no RDMA device, but SWIFT_RDMA_REQUIRED=1";
    }
    GTEST_SKIP() << "no RDMA device on this host";
  }
  const std::string fixture =
      swift::testing::EnvOr("RXE_A_DEV", swift::testing::TestDeviceName());
  std::string table = Swiftctl(swiftd);
  EXPECT_TRUE(absl::StrContains(table, "librxe-rdmav34.so")) << table;
  EXPECT_TRUE(absl::StrContains(
      table, fixture + ": import: no: ibv_import_device: Operation not "
                       "supported"))
      << table;
  EXPECT_TRUE(absl::StrContains(
      table, fixture + ": fork child post: no: needs the ioctl doorbell"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, fixture + ": hardware IRQs: no: "
                                                 "software device"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "RoCE v2")) << table;
  const std::string json = Swiftctl(swiftd, "--json");
  EXPECT_TRUE(absl::StrContains(json, "\"provider_library\":\"/")) << json;

  const std::string name = "rxeSwCtl";
  const std::string netdev = "swdevc0";
  RunCommand("rdma link delete " + name + "; ip link del " + netdev);
  ASSERT_EQ(RunCommand(absl::StrCat("ip link add ", netdev,
                                    " type dummy && ip addr add 10.80.0.1/24 "
                                    "dev ",
                                    netdev, " && ip link set ", netdev, " up"))
                .exit_code,
            0);
  CommandResult added = RunCommand(
      absl::StrCat("rdma link add ", name, " type rxe netdev ", netdev));
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  const v1::Device* device = nullptr;
  v1::FastResponse described;
  while (absl::Now() < deadline) {
    described = Describe(swiftd);
    device = Named(described.describe_devices(), name);
    if (device != nullptr && device->state() == "open") {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_NE(device, nullptr) << name << " never described";
  EXPECT_EQ(device->state(), "open");
  EXPECT_EQ(device->driver(), "rxe");
  EXPECT_TRUE(absl::StrContains(Swiftctl(swiftd), name + "  open"));

  CommandResult deleted = RunCommand("timeout 60 rdma link delete " + name);
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  const absl::Time removal_deadline = absl::Now() + absl::Seconds(20);
  std::string after;
  while (absl::Now() < removal_deadline) {
    after = Swiftctl(swiftd);
    if (absl::StrContains(after, name + ": removed: ")) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(
      absl::StrContains(after, name + ": removed: UNAVAILABLE: RDMA device " +
                                   name + " was removed from the host"))
      << after;
  described = Describe(swiftd);
  device = Named(described.describe_devices(), name);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->state(), "removed");
  const v1::Device* still = Named(described.describe_devices(), fixture);
  ASSERT_NE(still, nullptr);
  EXPECT_EQ(still->state(), "open");
  RunCommand("ip link del " + netdev);
}

}  // namespace
}  // namespace swift
