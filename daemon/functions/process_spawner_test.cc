// SpawnProcess() and OwnedProcess: what failed before or at exec is said
// exactly (the step and its errno), the child leads its own process group
// with its limits and the one fd it inherits, and every child is reaped,
// whichever way it ends.
#include "daemon/functions/process_spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/cpu_set.h"
#include "common/unique_fd.h"
#include "daemon/functions/testing/child_count.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::ChildCount;
using ::swift::testing::CountChildren;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

class ProcessSpawnerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    const ChildCount children = CountChildren();
    EXPECT_EQ(children.live, 0);
    EXPECT_EQ(children.zombies, 0);
  }

  // A file of this test's own (removed with the test's TEST_TMPDIR).
  static std::string Path(const std::string& name) {
    return ::testing::TempDir() + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() +
           "-" + name;
  }

  // `sh -c script` as a command.
  static SpawnCommand Shell(const std::string& script) {
    SpawnCommand command;
    command.argv = {"/bin/sh", "-c", script};
    return command;
  }
};

TEST_F(ProcessSpawnerTest, AMissingProgramIsReportedWithExecsErrno) {
  SpawnCommand command;
  command.argv = {"/nonexistent/program", "--flag"};
  absl::Status status = SpawnProcess(command).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(status.message(),
            "could not execute /nonexistent/program: No such file or "
            "directory");
}

TEST_F(ProcessSpawnerTest, ExecFailuresNameTheProgramAndTheirErrno) {
  const std::string text = Path("text");
  std::ofstream(text) << "not a program\n";
  SpawnCommand command;
  command.argv = {text};
  command.name = "the worker binary";
  chmod(text.c_str(), 0644);
  absl::Status status = SpawnProcess(command).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(status.message(),
            "could not execute the worker binary: Permission denied");
  chmod(text.c_str(), 0755);
  command.out_of_memory_hint = " (only for ENOMEM)";
  status = SpawnProcess(command).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(status.message(),
            "could not execute the worker binary: Exec format error");
}

TEST_F(ProcessSpawnerTest, AnIdentityThatCannotBeTakenIsPermissionDenied) {
  SpawnCommand command;
  command.argv = {"/bin/true"};
  command.identity.switch_user = true;
  command.identity.uid = 65534;
  command.identity.gid = 65534;
  // No kernel maps gid -1: setgroups() fails (EINVAL; EPERM unprivileged).
  command.identity.groups = {static_cast<gid_t>(-1)};
  absl::Status status = SpawnProcess(command).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_TRUE(absl::StartsWith(
      status.message(), "could not switch /bin/true to uid 65534 gid 65534: "))
      << status;
}

TEST_F(ProcessSpawnerTest, NoArgvIsInvalid) {
  EXPECT_EQ(SpawnProcess(SpawnCommand()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ProcessSpawnerTest, TheChildGetsItsLimitsAndItsOneFd) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const std::string limits = Path("limits");
  SpawnCommand command = Shell(absl::StrCat(
      "ulimit -v > ", limits, "; echo inherited >&", write_end.get()));
  command.memory_limit_bytes = 512ull << 20;
  command.inherited_fd = write_end.get();
  absl::StatusOr<std::unique_ptr<OwnedProcess>> process = SpawnProcess(command);
  ASSERT_TRUE(process.ok()) << process.status();
  const int status = (*process)->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(ReadFile(limits), "524288\n");  // KiB.
  write_end.Reset();
  char buffer[32] = {};
  EXPECT_EQ(read(read_end.get(), buffer, sizeof(buffer)), 10);
  EXPECT_EQ(std::string(buffer), "inherited\n");
  // Not inherited: still close-on-exec here.
  EXPECT_EQ(fcntl(read_end.get(), F_GETFD), FD_CLOEXEC);
}

// swiftd confines its own threads (--cpus); the workers it starts get the
// CPUs it was started with back.
TEST_F(ProcessSpawnerTest, TheChildRunsOnTheCpusItIsGiven) {
  absl::StatusOr<CpuSet> allowed = CpuSet::OfThisThread();
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  const std::string seen = Path("cpus");
  SpawnCommand command =
      Shell(absl::StrCat("grep Cpus_allowed_list /proc/self/status > ", seen));
  command.cpus = *allowed;
  // Spawned from a thread confined to one CPU, as swiftd's are.
  std::thread([&] {
    CpuSet one;
    one.Add(allowed->First());
    ASSERT_TRUE(one.ApplyToThisThread().ok());
    absl::StatusOr<std::unique_ptr<OwnedProcess>> process =
        SpawnProcess(command);
    ASSERT_TRUE(process.ok()) << process.status();
    EXPECT_EQ((*process)->Wait(), 0);
  }).join();
  EXPECT_EQ(ReadFile(seen),
            absl::StrCat("Cpus_allowed_list:\t", allowed->ToString(), "\n"));
}

TEST_F(ProcessSpawnerTest, KillReachesTheWholeProcessGroup) {
  const std::string grandchild = Path("grandchild");
  absl::StatusOr<std::unique_ptr<OwnedProcess>> process = SpawnProcess(
      Shell(absl::StrCat("sleep 1000 & echo $! > ", grandchild, "; wait")));
  ASSERT_TRUE(process.ok()) << process.status();
  EXPECT_EQ(getpgid((*process)->pid()), (*process)->pid());
  int pid = 0;
  for (int i = 0;
       i < 1000 &&
       !absl::SimpleAtoi(
           absl::StripTrailingAsciiWhitespace(ReadFile(grandchild)), &pid);
       ++i) {
    usleep(5000);
  }
  ASSERT_GT(pid, 0);
  EXPECT_EQ(getpgid(pid), (*process)->pid());
  process->reset();  // Kills the group and reaps the child.
  // The grandchild is gone (or a zombie its new parent has yet to reap).
  std::string state;
  for (int i = 0; i < 1000; ++i) {
    state = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
    if (state.empty() || absl::StrContains(state, ") Z ")) {
      break;
    }
    usleep(5000);
  }
  EXPECT_TRUE(state.empty() || absl::StrContains(state, ") Z ")) << state;
}

TEST_F(ProcessSpawnerTest, OwnedProcessWaitsReapsAndReportsTheStatus) {
  absl::StatusOr<std::unique_ptr<OwnedProcess>> sleeper =
      SpawnProcess(Shell("exec sleep 1000"));
  ASSERT_TRUE(sleeper.ok()) << sleeper.status();
  EXPECT_FALSE((*sleeper)->WaitFor(absl::Milliseconds(20)).has_value());
  EXPECT_FALSE((*sleeper)->reaped());
  (*sleeper)->Kill();
  const int killed = (*sleeper)->Wait();
  EXPECT_TRUE(WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL) << killed;
  EXPECT_TRUE((*sleeper)->reaped());
  EXPECT_EQ((*sleeper)->Wait(), killed);  // Again: the same status.
  (*sleeper)->Kill();                     // Reaped: signals nothing.

  absl::StatusOr<std::unique_ptr<OwnedProcess>> exits =
      SpawnProcess(Shell("exit 7"));
  ASSERT_TRUE(exits.ok()) << exits.status();
  std::optional<int> status = (*exits)->WaitFor(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 7) << *status;
}

TEST_F(ProcessSpawnerTest, DroppingAProcessReapsIt) {
  for (const char* script : {"exec sleep 1000", "exit 0"}) {
    absl::StatusOr<std::unique_ptr<OwnedProcess>> process =
        SpawnProcess(Shell(script));
    ASSERT_TRUE(process.ok()) << process.status();
    usleep(20000);  // Let "exit 0" become a zombie first.
  }
  // TearDown() counts: no child, no zombie.
}

}  // namespace
}  // namespace swift
