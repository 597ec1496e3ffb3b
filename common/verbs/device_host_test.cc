// Device discovery against the real libibverbs on a host without RDMA:
// an empty list is a normal state, and lookups explain what exists.
#include <gtest/gtest.h>

#include "common/verbs/context.h"
#include "common/verbs/device_info.h"
#include "common/verbs/device_list.h"

namespace swift::verbs {
namespace {

TEST(DeviceListTest, GetSucceedsEvenWithoutDevices) {
  absl::StatusOr<DeviceList> devices = DeviceList::Get();
  ASSERT_TRUE(devices.ok()) << devices.status();
  EXPECT_EQ(devices->size(), static_cast<int>(devices->Names().size()));
}

TEST(DeviceListTest, UnknownNameIsNotFoundAndListsWhatExists) {
  absl::StatusOr<DeviceList> devices = DeviceList::Get();
  ASSERT_TRUE(devices.ok()) << devices.status();
  absl::StatusOr<ibv_device*> missing = devices->Find("no-such-device");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no-such-device"),
            absl::string_view::npos);
  EXPECT_NE(missing.status().message().find("found:"),
            absl::string_view::npos);
}

TEST(ContextTest, OpenByUnknownNameIsNotFound) {
  EXPECT_EQ(Context::OpenByName("no-such-device").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(DeviceInfoTest, FormatsGuidsAndMtus) {
  EXPECT_EQ(FormatGuid(0x525400fffe123456ull), "5254:00ff:fe12:3456");
  EXPECT_EQ(MtuBytes(IBV_MTU_1024), 1024u);
  EXPECT_EQ(MtuBytes(IBV_MTU_4096), 4096u);
}

}  // namespace
}  // namespace swift::verbs
