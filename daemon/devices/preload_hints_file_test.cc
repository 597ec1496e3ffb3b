// PreloadHintsFile: what swiftd writes is what the preload's parser reads,
// the file is replaced atomically and trusted by readers, and removed with
// its owner; importable devices are listed as readers expect; the mlx5 knob
// follows the CPU.
#include "daemon/devices/preload_hints_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "client/preload/preload_hints.h"
#include "common/testing/command_testing.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::ReadWholeFile;
using ::swift::testing::TempDir;

constexpr char kRxe[] =
    "/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so";
constexpr char kMlx5[] =
    "/usr/lib/x86_64-linux-gnu/libibverbs/libmlx5-rdmav34.so";

// The writer's limits are the readers'.
static_assert(kPreloadHintsMaxImports == kSwiftHintsMaxImports);
static_assert(kPreloadHintsDeviceNameMax == kSwiftHintsDeviceNameMax);

// The names in `directory`, sorted.
std::vector<std::string> Entries(const std::string& directory) {
  std::vector<std::string> names;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return names;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Cpu(const std::string& vendor, int family, int model) {
  return "processor\t: 0\nvendor_id\t: " + vendor +
         "\ncpu family\t: " + std::to_string(family) +
         "\nmodel\t\t: " + std::to_string(model) + "\nmodel name\t: x\n";
}

TEST(PreloadHintsFileTest, WritesWhatThePreloadReadsAndRemovesIt) {
  TempDir dir;
  const std::string path = dir.path() + "/preload.hints";
  PreloadHints hints;
  hints.pid = 77;
  hints.providers = {kRxe, kMlx5};
  hints.env = {{"MLX5_STALL_CQ_POLL", "0"}};
  {
    absl::StatusOr<std::unique_ptr<PreloadHintsFile>> file =
        PreloadHintsFile::Write(path, hints);
    ASSERT_TRUE(file.ok()) << file.status();
    const std::string text = ReadWholeFile(path);
    swift_preload_hints parsed;
    const char* error = nullptr;
    ASSERT_EQ(
        swift_parse_preload_hints(text.data(), text.size(), &parsed, &error), 0)
        << error;
    EXPECT_EQ(parsed.pid, 77);
    ASSERT_EQ(parsed.provider_count, 2);
    EXPECT_STREQ(parsed.providers[1], kMlx5);
    ASSERT_EQ(parsed.env_count, 1);
    EXPECT_STREQ(parsed.env_names[0], "MLX5_STALL_CQ_POLL");
    const int fd = open(path.c_str(), O_RDONLY);
    EXPECT_EQ(swift_check_trusted_file(fd, geteuid(), &error), 0) << error;
    close(fd);

    hints.providers = {kRxe};
    ASSERT_TRUE((*file)->Update(hints).ok());
    EXPECT_EQ(ReadWholeFile(path), "swift-preload-hints 1\npid 77\nprovider " +
                                       std::string(kRxe) +
                                       "\nenv MLX5_STALL_CQ_POLL 0\n");
    EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"preload.hints"})
        << "no temporary file is left";
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "removed with its owner";
}

TEST(PreloadHintsFileTest, ImportableDevicesParseBack) {
  TempDir dir;
  const std::string path = dir.path() + "/preload.hints";
  PreloadHints hints;
  hints.pid = 77;
  hints.providers = {kRxe, kMlx5};
  hints.importable_devices = {"rxe0", "mlx5_1"};
  hints.env = {{"MLX5_STALL_CQ_POLL", "0"}};
  absl::StatusOr<std::unique_ptr<PreloadHintsFile>> file =
      PreloadHintsFile::Write(path, hints);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(ReadWholeFile(path), "swift-preload-hints 1\npid 77\nprovider " +
                                     std::string(kRxe) + "\nprovider " +
                                     std::string(kMlx5) +
                                     "\nimport rxe0\nimport mlx5_1\n"
                                     "env MLX5_STALL_CQ_POLL 0\n");
  swift_preload_hints parsed;
  const char* error = nullptr;
  std::string text = ReadWholeFile(path);
  ASSERT_EQ(
      swift_parse_preload_hints(text.data(), text.size(), &parsed, &error), 0)
      << error;
  EXPECT_EQ(parsed.provider_count, 2);
  EXPECT_EQ(parsed.env_count, 1);
  ASSERT_EQ(parsed.import_count, 2);
  EXPECT_STREQ(parsed.import_devices[0], "rxe0");
  EXPECT_STREQ(parsed.import_devices[1], "mlx5_1");
  EXPECT_EQ(swift_hints_can_import(&parsed, "rxe0"), 1);
  EXPECT_EQ(swift_hints_can_import(&parsed, "mlx5_1"), 1);
  EXPECT_EQ(swift_hints_can_import(&parsed, "mlx5_0"), 0);

  // The most importable devices readers take, each with the longest name.
  hints.importable_devices.clear();
  for (int i = 0; i < kPreloadHintsMaxImports; ++i) {
    hints.importable_devices.push_back(
        std::string(kPreloadHintsDeviceNameMax - 2, 'd') + std::to_string(i));
  }
  ASSERT_TRUE((*file)->Update(hints).ok());
  text = ReadWholeFile(path);
  ASSERT_EQ(
      swift_parse_preload_hints(text.data(), text.size(), &parsed, &error), 0)
      << error;
  EXPECT_EQ(parsed.import_count, kPreloadHintsMaxImports);
  EXPECT_EQ(
      swift_hints_can_import(&parsed, hints.importable_devices.back().c_str()),
      1);
}

// IsPreloadHintsDeviceName() takes exactly the names the readers take.
TEST(PreloadHintsFileTest, DeviceNamesAgreeWithTheReaders) {
  const std::string longest(kPreloadHintsDeviceNameMax - 1, 'a');
  const struct {
    std::string name;
    bool valid;
  } cases[] = {
      {"rxe0", true},
      {"mlx5_0", true},
      {"A-z.0_9", true},
      {longest, true},
      {"", false},
      {longest + "a", false},
      {"rxe 0", false},
      {"../rxe0", false},
      {"rxe0\t", false},
      {"rx\xc3\xa9", false},
      {std::string("rx\0e", 4), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsPreloadHintsDeviceName(c.name), c.valid) << c.name;
    const std::string text =
        "swift-preload-hints 1\npid 1\nimport " + c.name + "\n";
    swift_preload_hints parsed;
    const char* error = nullptr;
    EXPECT_EQ(
        swift_parse_preload_hints(text.data(), text.size(), &parsed, &error),
        c.valid ? 0 : -1)
        << c.name;
  }
}

// Two swiftds sharing a socket directory (two test hosts on one machine)
// both write its hints file: each replaced the other's temporary file
// under it, and one of them failed its rename (seen in the connect
// benchmark's guest: "No preload hints").
TEST(PreloadHintsFileTest, TwoWritersOfOnePathBothSucceed) {
  TempDir dir;
  const std::string path = dir.path() + "/preload.hints";
  PreloadHints first;
  first.pid = 1;
  first.providers = {kRxe};
  PreloadHints second = first;
  second.pid = 2;
  absl::StatusOr<std::unique_ptr<PreloadHintsFile>> a =
      PreloadHintsFile::Write(path, first);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::unique_ptr<PreloadHintsFile>> b =
      PreloadHintsFile::Write(path, second);
  ASSERT_TRUE(b.ok()) << b.status();
  constexpr int kUpdates = 300;
  int failures[2] = {0, 0};
  std::thread writer_a([&] {
    for (int i = 0; i < kUpdates; ++i) failures[0] += !(*a)->Update(first).ok();
  });
  std::thread writer_b([&] {
    for (int i = 0; i < kUpdates; ++i)
      failures[1] += !(*b)->Update(second).ok();
  });
  writer_a.join();
  writer_b.join();
  EXPECT_EQ(failures[0], 0);
  EXPECT_EQ(failures[1], 0);
  const std::string text = ReadWholeFile(path);
  EXPECT_TRUE(text == FormatPreloadHints(first) ||
              text == FormatPreloadHints(second))
      << "one writer's whole file, not a mix: " << text;
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"preload.hints"});
}

TEST(PreloadHintsFileTest, AnUnwritableDirectoryIsAClearError) {
  absl::StatusOr<std::unique_ptr<PreloadHintsFile>> file =
      PreloadHintsFile::Write("/nonexistent-dir/preload.hints", {});
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("/nonexistent-dir/preload.hints"),
            std::string::npos)
      << file.status();
}

TEST(ProviderKnobsTest, Mlx5StallIsOffExceptWhereMlx5WouldTurnItOn) {
  const std::vector<std::pair<std::string, std::string>> off = {
      {"MLX5_STALL_CQ_POLL", "0"}};
  EXPECT_EQ(ProviderKnobs({kMlx5}, Cpu("GenuineIntel", 6, 85)), off);
  EXPECT_EQ(ProviderKnobs({kMlx5}, Cpu("AuthenticAMD", 25, 1)), off);
  // Sandy Bridge: mlx5's own detection may turn the stall on; leave it.
  EXPECT_TRUE(ProviderKnobs({kMlx5}, Cpu("GenuineIntel", 6, 42)).empty());
  EXPECT_TRUE(ProviderKnobs({kMlx5}, Cpu("GenuineIntel", 6, 45)).empty());
  EXPECT_TRUE(ProviderKnobs({kMlx5}, "").empty()) << "unknown CPU";
  EXPECT_TRUE(ProviderKnobs({kRxe}, Cpu("GenuineIntel", 6, 85)).empty());
}

}  // namespace
}  // namespace swift
