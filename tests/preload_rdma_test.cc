// The cold path's provider cut on a real device (the Soft-RoCE guest): a
// swiftd process keeps preload.hints, and
//  - an unmodified verbs program under libswift_preload.so maps only the
//    hinted provider and lists the same devices;
//  - ib_write_lat under the preload measures as usual, and with swiftd
//    stopped the preload steps aside and it still runs;
//  - libswift's cold start (Session::Create in a fresh process) loads
//    only the hinted provider.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/testing/eventually.h"
#include "common/testing/rdma_test_env.h"
#include "common/testing/sanitizer_build.h"
#include "gtest/gtest.h"
#include "tests/swiftd_process.h"

namespace swift::testing {
namespace {

class PreloadRdmaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = TestDeviceName();
    if (access(("/sys/class/infiniband/" + device_).c_str(), F_OK) != 0) {
      if (RdmaRequired()) {
        FAIL() << "no RDMA device " << device_
               << ", but SWIFT_RDMA_REQUIRED=1";
      }
      GTEST_SKIP() << "no RDMA device " << device_;
    }
    socket_ = dir_.path() + "/swiftd.sock";
    hints_ = dir_.path() + "/preload.hints";
    swiftd_ = std::make_unique<SwiftdProcess>(
        socket_, "", dir_.path() + "/swiftd.log",
        std::vector<std::string>{"--devices=" + device_});
    ASSERT_TRUE(Eventually([&] { return access(hints_.c_str(), F_OK) == 0; },
                           absl::Seconds(30)))
        << ReadWholeFile(dir_.path() + "/swiftd.log");
  }

  // The environment that puts the preload under a program (for `env`, in
  // a shell). An ASan-built program must be told that a library preloaded
  // ahead of ASan's runtime is fine (sanitizer_build.h).
  std::string Preload() const {
    return absl::StrCat(
        testing::kAddressSanitizerBuild
            ? "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
              "verify_asan_link_order=0 "
            : "",
        "SWIFT_PRELOAD_DEBUG=1 SWIFT_PRELOAD_HINTS=", hints_, " LD_PRELOAD=",
        Absolute(RunfilePath("client/preload/libswift_preload.so")), " ");
  }
  static std::vector<std::string> Providers(const std::string& out) {
    std::vector<std::string> providers;
    for (absl::string_view line : absl::StrSplit(out, '\n')) {
      if (absl::StartsWith(line, "provider ")) {
        providers.emplace_back(line);
      }
    }
    return providers;
  }
  static std::string DevicesLine(const std::string& out) {
    const size_t at = out.find("devices ");
    return at == std::string::npos ? "" : out.substr(at);
  }
  // ib_write_lat, server in the background and client, on `device_`;
  // the client's output.
  CommandResult WriteLatency(const std::string& env, int port) {
    const std::string common = absl::StrCat(
        "ib_write_lat -d ", device_, " -x ",
        EnvOr("RXE_GID_INDEX", "1"), " -p ", port, " -n 200 -F");
    return RunCommand(absl::StrCat("(env ", env, common,
                                   " >/dev/null 2>&1 &) ; sleep 1; env ", env,
                                   common, " 127.0.0.1"));
  }
  static bool HasResultLine(const std::string& out) {
    for (absl::string_view line : absl::StrSplit(out, '\n')) {
      std::vector<absl::string_view> fields =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (fields.size() >= 5 && fields[1] == "200") return true;
    }
    return false;
  }

  TempDir dir_;
  std::string device_;
  std::string socket_;
  std::string hints_;
  std::unique_ptr<SwiftdProcess> swiftd_;
};

TEST_F(PreloadRdmaTest, AnUnmodifiedProgramMapsOnlyTheHintedProvider) {
  const std::string probe = Absolute(RunfilePath("client/preload/preload_probe"));
  const CommandResult plain = RunCommand(probe);
  const CommandResult preloaded = RunCommand("env " + Preload() + probe);
  ASSERT_EQ(preloaded.exit_code, 0) << preloaded.err;
  EXPECT_GE(Providers(plain.out).size(), 2u) << plain.out;
  const std::vector<std::string> providers = Providers(preloaded.out);
  ASSERT_EQ(providers.size(), 1u) << preloaded.out << preloaded.err;
  EXPECT_TRUE(absl::StrContains(providers[0], "librxe-rdmav")) << providers[0];
  EXPECT_EQ(DevicesLine(preloaded.out), DevicesLine(plain.out));
  EXPECT_NE(DevicesLine(plain.out), "devices 0\n");
}

// The preload's import branch, as far as rxe can take it: hints that list
// the device for import (as swiftd writes them for mlx5) make the
// program's ibv_open_device ask swiftd, which refuses (rxe cannot import)
// with the probe's reason; the program then opens the device itself and
// runs unchanged.
TEST_F(PreloadRdmaTest, AnImportSwiftdRefusesLeavesTheProgramOpeningItself) {
  const std::string importing = dir_.path() + "/importing.hints";
  {
    std::ofstream file(importing);
    file << ReadWholeFile(hints_) << "import " << device_ << "\n";
  }
  ASSERT_EQ(chmod(importing.c_str(), 0644), 0);
  const std::string probe =
      Absolute(RunfilePath("client/preload/preload_probe"));
  const std::string env = absl::StrReplaceAll(
      Preload(),
      {{"SWIFT_PRELOAD_HINTS=" + hints_, "SWIFT_PRELOAD_HINTS=" + importing}});
  const CommandResult preloaded = RunCommand("env " + env + probe);
  ASSERT_EQ(preloaded.exit_code, 0) << preloaded.err;
  EXPECT_TRUE(absl::StrContains(preloaded.out, "opened " + device_))
      << preloaded.out;
  EXPECT_TRUE(absl::StrContains(preloaded.err, "swiftd shared no context"))
      << preloaded.err;
  EXPECT_TRUE(absl::StrContains(preloaded.err, "cannot import"))
      << preloaded.err;
  // Without the import lines, the preload never asks.
  const CommandResult plain = RunCommand("env " + Preload() + probe);
  EXPECT_TRUE(absl::StrContains(plain.out, "opened " + device_)) << plain.out;
  EXPECT_FALSE(absl::StrContains(plain.err, "shared no context")) << plain.err;
}

TEST_F(PreloadRdmaTest, PerftestMeasuresUnderThePreloadAndWithoutSwiftd) {
  const CommandResult preloaded = WriteLatency(Preload(), 18811);
  EXPECT_EQ(preloaded.exit_code, 0) << preloaded.out << preloaded.err;
  EXPECT_TRUE(HasResultLine(preloaded.out)) << preloaded.out;
  EXPECT_TRUE(absl::StrContains(preloaded.err, "provider loaded"))
      << preloaded.err;

  ASSERT_EQ(swiftd_->StopWith(SIGTERM), 0)
      << ReadWholeFile(dir_.path() + "/swiftd.log");
  EXPECT_NE(access(hints_.c_str(), F_OK), 0) << "swiftd removes its hints";
  const CommandResult alone = WriteLatency(Preload(), 18812);
  EXPECT_EQ(alone.exit_code, 0) << alone.out << alone.err;
  EXPECT_TRUE(HasResultLine(alone.out)) << alone.out;
  EXPECT_TRUE(absl::StrContains(alone.err, "stepping aside")) << alone.err;
}

TEST_F(PreloadRdmaTest, LibswiftsColdStartLoadsOnlyTheHintedProvider) {
  const CommandResult run = RunCommand(absl::StrCat(
      Absolute(RunfilePath("tools/bench/cold_start_swift")), " ", socket_,
      " ", device_));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, "\"ok\":true")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "\"providers\":1,")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "\"providers_loaded\":1")) << run.out;
}

}  // namespace
}  // namespace swift::testing
