// PreloadHintsKeeper: the hints file follows the device table (devices
// appearing, vanishing; which can lend their context), and goes with the
// keeper.
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

DeviceRecord Importable(const std::string& name, const std::string& provider) {
  DeviceRecord record = Open(name, provider);
  record.context_import.supported = true;
  record.context_import.detail = "imported a duplicate of the command fd";
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

TEST(PreloadHintsKeeperTest, OnlyOpenDevicesThatImportAreListed) {
  TempDir dir;
  const std::string path = dir.path() + "/preload.hints";
  const std::string head =
      "swift-preload-hints 1\npid " + std::to_string(getpid()) + "\n";
  DeviceTable table;
  table.Put(Importable("rxe0", "/lib/librxe-rdmav34.so"), nullptr);
  DeviceRecord no_import = Open("siw0", "/lib/libsiw-rdmav34.so");
  no_import.context_import.detail =
      "ibv_import_device: Operation not supported";
  table.Put(no_import, nullptr);
  DeviceRecord failed = Importable("rxe9", "/lib/librxe-rdmav34.so");
  failed.state = DeviceState::kFailed;  // Not open: nothing to hand out.
  table.Put(failed, nullptr);
  absl::StatusOr<std::unique_ptr<PreloadHintsKeeper>> keeper =
      PreloadHintsKeeper::Start(path, &table);
  ASSERT_TRUE(keeper.ok()) << keeper.status();
  EXPECT_EQ(ReadWholeFile(path), head +
                                     "provider /lib/librxe-rdmav34.so\n"
                                     "provider /lib/libsiw-rdmav34.so\n"
                                     "import rxe0\n");

  table.Put(Importable("rxe1", "/lib/librxe-rdmav34.so"), nullptr);
  EXPECT_EQ(ReadWholeFile(path), head +
                                     "provider /lib/librxe-rdmav34.so\n"
                                     "provider /lib/libsiw-rdmav34.so\n"
                                     "import rxe0\nimport rxe1\n");

  // A removed device drops out, though its record stays in the table
  // (providers follow the records' order: siw0's now comes first).
  table.MarkRemoved("rxe0", absl::UnavailableError("gone"), "test");
  EXPECT_EQ(ReadWholeFile(path), head +
                                     "provider /lib/libsiw-rdmav34.so\n"
                                     "provider /lib/librxe-rdmav34.so\n"
                                     "import rxe1\n");
  table.MarkRemoved("rxe1", absl::UnavailableError("gone"), "test");
  EXPECT_EQ(ReadWholeFile(path), head + "provider /lib/libsiw-rdmav34.so\n");
}

// More importable devices than readers take, or a name they refuse, would
// make them refuse the whole file: those are left out, and said so.
TEST(PreloadHintsKeeperTest, LeavesOutWhatReadersWouldRefuse) {
  std::vector<DeviceRecord> records;
  records.push_back(Importable("bad name", "/lib/librxe-rdmav34.so"));
  for (int i = 0; i < kPreloadHintsMaxImports + 2; ++i) {
    records.push_back(
        Importable("rxe" + std::to_string(i), "/lib/librxe-rdmav34.so"));
  }
  records.push_back(Open("siw0", "/lib/libsiw-rdmav34.so"));
  std::vector<std::string> left_out;
  const PreloadHints hints = HintsForDevices(records, &left_out);
  ASSERT_EQ(hints.importable_devices.size(),
            static_cast<size_t>(kPreloadHintsMaxImports));
  EXPECT_EQ(hints.importable_devices.front(), "rxe0");
  EXPECT_EQ(hints.importable_devices.back(),
            "rxe" + std::to_string(kPreloadHintsMaxImports - 1));
  const std::vector<std::string> providers = {"/lib/librxe-rdmav34.so",
                                              "/lib/libsiw-rdmav34.so"};
  EXPECT_EQ(hints.providers, providers);
  const std::vector<std::string> expected = {
      "bad name (a name the hints readers refuse)",
      "rxe8 (over the readers' limit of 8 devices)",
      "rxe9 (over the readers' limit of 8 devices)",
  };
  EXPECT_EQ(left_out, expected);
  EXPECT_EQ(HintsForDevices(records).importable_devices,
            hints.importable_devices)
      << "left_out is optional";
}

}  // namespace
}  // namespace swift
