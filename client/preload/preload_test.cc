// libswift_preload.so on the host (no RDMA device needed: the provider is
// loaded before main, whatever the device list says). preload_probe, a
// verbs program, reports the providers mapped into it; each case checks
// that the preload loaded the hinted provider, or stepped aside leaving the
// program exactly as it runs without the preload.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/testing/command_testing.h"
#include "common/testing/sanitizer_build.h"
#include "gtest/gtest.h"

namespace swift::testing {
namespace {

constexpr char kRxe[] = "/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so";

class PreloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kRxe, R_OK) != 0) {
      GTEST_SKIP() << kRxe << " is not installed (ibverbs-providers)";
    }
    // A process named swiftd, as the hints' pid must be.
    const std::string fake = dir_.path() + "/swiftd";
    ASSERT_EQ(RunCommand("cp /bin/sleep " + fake).exit_code, 0);
    swiftd_pid_ = fork();
    if (swiftd_pid_ == 0) {
      execl(fake.c_str(), "swiftd", "600", nullptr);
      _exit(127);
    }
    hints_ = dir_.path() + "/preload.hints";
  }
  void TearDown() override {
    if (swiftd_pid_ > 0) {
      kill(swiftd_pid_, SIGKILL);
      waitpid(swiftd_pid_, nullptr, 0);
    }
  }

  void WriteHints(const std::string& text, mode_t mode = 0644) {
    std::ofstream(hints_) << text;
    ASSERT_EQ(chmod(hints_.c_str(), mode), 0);
  }
  std::string ValidHints() const {
    return absl::StrCat("swift-preload-hints 1\npid ", swiftd_pid_,
                        "\nprovider ", kRxe, "\n");
  }

  // Runs `program` (the probe by default) under the preload.
  CommandResult Run(const std::string& extra_env = "",
                    const std::string& program = "") {
    return RunCommand(absl::StrCat(
        "env SWIFT_PRELOAD_DEBUG=1 SWIFT_PRELOAD_HINTS=", hints_, " ",
        // An ASan-built probe must be told that a library preloaded ahead
        // of ASan's runtime is fine (sanitizer_build.h).
        testing::kAddressSanitizerBuild
            ? "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
              "verify_asan_link_order=0 "
            : "",
        extra_env, " LD_PRELOAD=",
        Absolute(RunfilePath("client/preload/libswift_preload.so")), " ",
        program.empty() ? Absolute(RunfilePath("client/preload/preload_probe"))
                        : program));
  }
  std::string Plain() {
    return RunCommand(Absolute(RunfilePath("client/preload/preload_probe")))
        .out;
  }

  TempDir dir_;
  pid_t swiftd_pid_ = -1;
  std::string hints_;
};

TEST_F(PreloadTest, LoadsTheHintedProviderBeforeMain) {
  WriteHints(ValidHints());
  const CommandResult run = Run();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find(absl::StrCat("provider ", kRxe)), std::string::npos)
      << run.out << run.err;
  EXPECT_NE(run.err.find("provider loaded"), std::string::npos) << run.err;
}

TEST_F(PreloadTest, SetsProviderKnobsButNeverOverridesTheProgram) {
  WriteHints(ValidHints() + "env MLX5_STALL_CQ_POLL 0\n");
  const std::string env = "/usr/bin/env";  // Not a verbs program...
  // ...so the preload steps aside for it: env is not changed.
  CommandResult run = Run("", env);
  EXPECT_EQ(run.out.find("MLX5_STALL_CQ_POLL"), std::string::npos);
  EXPECT_NE(run.err.find("not a verbs program"), std::string::npos) << run.err;
  // In the probe (a verbs program) it is set, unless the program set it.
  run = Run();
  EXPECT_NE(run.err.find("set: MLX5_STALL_CQ_POLL"), std::string::npos)
      << run.err;
  run = Run("MLX5_STALL_CQ_POLL=1");
  EXPECT_EQ(run.err.find("set: MLX5_STALL_CQ_POLL"), std::string::npos)
      << run.err;
}

TEST_F(PreloadTest, StepsAsideLeavingTheProgramUnchanged) {
  const std::string plain = Plain();
  struct Case {
    std::string name;
    std::string hints;  // Empty: no file.
    mode_t mode;
    std::string env;
    std::string said;
  };
  const std::string stale =
      "swift-preload-hints 1\npid 999999999\nprovider " + std::string(kRxe) +
      "\n";
  const Case cases[] = {
      {"no file", "", 0644, "", "no hints file"},
      {"swiftd gone", stale, 0644, "", "swiftd that wrote the hints is gone"},
      {"writable by others", ValidHints(), 0666, "", "not trusted"},
      {"malformed", "swift-preload-hints 1\nprovider x\n", 0644, "",
       "malformed hints"},
      {"disabled", ValidHints(), 0644, "SWIFT_PRELOAD_DISABLE=1", "disabled"},
  };
  for (const Case& c : cases) {
    unlink(hints_.c_str());
    if (!c.hints.empty()) WriteHints(c.hints, c.mode);
    const CommandResult run = Run(c.env);
    EXPECT_EQ(run.exit_code, 0) << c.name << ": " << run.err;
    EXPECT_EQ(run.out, plain) << c.name;
    EXPECT_NE(run.err.find(c.said), std::string::npos)
        << c.name << ": " << run.err;
  }
}

TEST_F(PreloadTest, AProviderOthersMayWriteIsNotLoaded) {
  const std::string copy = dir_.path() + "/librxe-rdmav34.so";
  ASSERT_EQ(RunCommand(absl::StrCat("cp ", kRxe, " ", copy, " && chmod 0666 ",
                                    copy))
                .exit_code,
            0);
  WriteHints(absl::StrCat("swift-preload-hints 1\npid ", swiftd_pid_,
                          "\nprovider ", copy, "\n"));
  const CommandResult run = Run();
  EXPECT_EQ(run.out.find(copy), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("provider not trusted"), std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace swift::testing
