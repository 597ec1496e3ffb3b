// RunInChild(): results, errors, crashes and hangs of a forked child all
// reach the parent, and the child is always reaped.
#include "daemon/worker/fork/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace swift {
namespace {

// No child of this process is left to reap.
void ExpectNoChildLeft() {
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(RunInChildTest, ReturnsTheChildsValueFromAnotherProcess) {
  const pid_t parent = getpid();
  absl::StatusOr<std::string> result = RunInChild(
      [parent]() -> absl::StatusOr<std::string> {
        return getpid() != parent ? std::string("other process\nline 2")
                                  : std::string("same process");
      },
      absl::Seconds(10));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "other process\nline 2");
  ExpectNoChildLeft();
}

TEST(RunInChildTest, ReturnsTheChildsErrorWithItsCode) {
  absl::StatusOr<std::string> result = RunInChild(
      []() -> absl::StatusOr<std::string> {
        return absl::PermissionDeniedError("doorbell refused");
      },
      absl::Seconds(10));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(result.status().message(), "in the child: doorbell refused");
  ExpectNoChildLeft();
}

TEST(RunInChildTest, ACrashIsReportedWithItsSignal) {
  absl::StatusOr<std::string> result = RunInChild(
      []() -> absl::StatusOr<std::string> {
        raise(SIGSEGV);
        return std::string("unreachable");
      },
      absl::Seconds(10));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(result.status().message().find("signal 11"),
            absl::string_view::npos)
      << result.status();
  ExpectNoChildLeft();
}

TEST(RunInChildTest, AHungChildIsKilledAtTheDeadline) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> result = RunInChild(
      []() -> absl::StatusOr<std::string> {
        for (;;) {
          pause();
        }
      },
      absl::Milliseconds(300));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ExpectNoChildLeft();
}

}  // namespace
}  // namespace swift
