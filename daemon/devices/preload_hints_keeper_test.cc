// PreloadHintsKeeper: the hints file follows the device table (devices
// appearing, vanishing), and goes with the keeper.
#include "daemon/devices/preload_hints_keeper.h"

#include <unistd.h>

#include <string>

#include "common/testing/command_testing.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::ReadWholeFile;
using ::swift::testing::TempDir;

DeviceRecord Open(const std::string& name, const std::string& provider) {
  DeviceRecord record;
  record.name = name;
  record.state = DeviceState::kOpen;
  record.provider_library = provider;
  return record;
}

TEST(PreloadHintsKeeperTest, TheFileFollowsTheDevices) {
  TempDir dir;
  const std::string path = dir.path() + "/preload.hints";
  const std::string pid = "pid " + std::to_string(getpid()) + "\n";
  DeviceTable table;
  table.Put(Open("rxeA", "/lib/librxe-rdmav34.so"), nullptr);
  table.Put(Open("rxeB", "/lib/librxe-rdmav34.so"), nullptr);  // Listed once.
  DeviceRecord failed;
  failed.name = "mlx5_0";
  failed.provider_library = "/lib/libmlx5-rdmav34.so";  // Not open: left out.
  table.Put(failed, nullptr);
  {
    absl::StatusOr<std::unique_ptr<PreloadHintsKeeper>> keeper =
        PreloadHintsKeeper::Start(path, &table);
    ASSERT_TRUE(keeper.ok()) << keeper.status();
    EXPECT_EQ(ReadWholeFile(path), "swift-preload-hints 1\n" + pid +
                                       "provider /lib/librxe-rdmav34.so\n");

    table.Put(Open("siw0", "/lib/libsiw-rdmav34.so"), nullptr);
    EXPECT_EQ(ReadWholeFile(path), "swift-preload-hints 1\n" + pid +
                                       "provider /lib/librxe-rdmav34.so\n"
                                       "provider /lib/libsiw-rdmav34.so\n");
    table.MarkRemoved("rxeA", absl::UnavailableError("gone"), "test");
    table.MarkRemoved("rxeB", absl::UnavailableError("gone"), "test");
    EXPECT_EQ(ReadWholeFile(path), "swift-preload-hints 1\n" + pid +
                                       "provider /lib/libsiw-rdmav34.so\n");
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "removed with the keeper";
  // The table lives on without the keeper's listener.
  table.Put(Open("rxeA", "/lib/librxe-rdmav34.so"), nullptr);
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace swift
