// overhead_cpu: real processes burn CPU, and the readings must show it where
// overhead_cpu.h says it goes (own, live descendants, reaped descendants).
#include "tools/bench/overhead_cpu.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace swift::bench {
namespace {

constexpr double kBurnS = 0.3;
// One clock tick, plus scheduling slack on a busy machine.
constexpr double kSlackS = 0.05;

// Spins until this process has used `seconds` more CPU.
void Burn(double seconds) {
  auto used = [] {
    timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return now.tv_sec + now.tv_nsec * 1e-9;
  };
  const double until = used() + seconds;
  volatile uint64_t sink = 0;
  while (used() < until) {
    for (int i = 0; i < 10000; ++i) {
      sink = sink + i;
    }
  }
}

TEST(ReadTreeCpuTest, CountsItsOwnTime) {
  absl::StatusOr<TreeCpu> before = ReadTreeCpu(getpid());
  ASSERT_TRUE(before.ok()) << before.status();
  Burn(kBurnS);
  absl::StatusOr<TreeCpu> after = ReadTreeCpu(getpid());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GE(after->own_s - before->own_s, kBurnS - kSlackS);
  EXPECT_LT(after->descendants_s - before->descendants_s, kSlackS);
}

TEST(ReadTreeCpuTest, KeepsAReapedChildsTime) {
  absl::StatusOr<TreeCpu> before = ReadTreeCpu(getpid());
  ASSERT_TRUE(before.ok()) << before.status();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Burn(kBurnS);
    _exit(0);
  }
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  absl::StatusOr<TreeCpu> after = ReadTreeCpu(getpid());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GE(after->descendants_s - before->descendants_s, kBurnS - kSlackS);
  EXPECT_LT(after->own_s - before->own_s, kSlackS);
}

// A live child that reaped a grandchild: the grandchild's time is in the
// child's cutime, and the child's own time is counted too.
TEST(ReadTreeCpuTest, CountsLiveChildrenAndWhatTheyReaped) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  absl::StatusOr<TreeCpu> before = ReadTreeCpu(getpid());
  ASSERT_TRUE(before.ok()) << before.status();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    const pid_t grandchild = fork();
    if (grandchild == 0) {
      Burn(kBurnS);
      _exit(0);
    }
    waitpid(grandchild, nullptr, 0);
    Burn(kBurnS);
    const char done = 'x';
    (void)!write(ready[1], &done, 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char done;
  ASSERT_EQ(read(ready[0], &done, 1), 1);
  close(ready[0]);
  absl::StatusOr<TreeCpu> after = ReadTreeCpu(getpid());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GE(after->descendants_s - before->descendants_s, 2 * kBurnS - kSlackS);
  EXPECT_GE(after->live_descendants, 1);
}

TEST(ReadTreeCpuTest, NotFoundForAProcessThatEnded) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    _exit(0);
  }
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  absl::StatusOr<TreeCpu> gone = ReadTreeCpu(child);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
}

// All threads' switches.
uint64_t Total(const std::map<std::string, uint64_t>& by_name) {
  uint64_t total = 0;
  for (const auto& [name, switches] : by_name) total += switches;
  return total;
}

TEST(ReadContextSwitchesTest, EachSleepOfEachThreadIsCounted) {
  absl::StatusOr<std::map<std::string, uint64_t>> before =
      ReadContextSwitchesByThread(getpid());
  ASSERT_TRUE(before.ok()) << before.status();
  auto nap = [] {
    for (int i = 0; i < 20; ++i) absl::SleepFor(absl::Milliseconds(1));
  };
  absl::Notification read;
  absl::Notification napped;
  std::thread other([&] {
    pthread_setname_np(pthread_self(), "napper");
    nap();
    napped.Notify();
    read.WaitForNotification();  // Counted only while it lives.
  });
  nap();
  napped.WaitForNotification();
  absl::StatusOr<std::map<std::string, uint64_t>> by_name =
      ReadContextSwitchesByThread(getpid());
  read.Notify();
  other.join();
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_GE(Total(*by_name) - Total(*before), 20u + 20u);  // Both threads'.
  ASSERT_TRUE(by_name->count("napper")) << "threads are named";
  EXPECT_GE(by_name->at("napper"), 20u);
  constexpr pid_t kNoSuchPid = 4194305;     // Past the largest pid_max.
  EXPECT_EQ(ReadContextSwitchesByThread(kNoSuchPid).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ReadSystemCpuTest, BusyTimeGrowsWhileBurning) {
  absl::StatusOr<SystemCpu> before = ReadSystemCpu();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_GT(before->busy_s + before->idle_s, 0);
  Burn(kBurnS);
  absl::StatusOr<SystemCpu> after = ReadSystemCpu();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GE(after->busy_s - before->busy_s, kBurnS - kSlackS);
}

}  // namespace
}  // namespace swift::bench
