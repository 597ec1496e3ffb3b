// PreloadHintsFile: what swiftd writes is what the preload's parser reads,
// the file is replaced atomically and trusted by readers, and removed with
// its owner; the mlx5 knob follows the CPU.
#include "daemon/devices/preload_hints_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

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
    EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0);
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "removed with its owner";
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
