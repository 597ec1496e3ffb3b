// SpinBudget: grows toward quick completions, shrinks to zero when waits
// end asleep, and probes with the whole spin to learn again.
#include "client/wait/spin_budget.h"

#include <gtest/gtest.h>

namespace swift::wait_internal {
namespace {

TEST(SpinBudgetTest, StartsAtTheMaximum) {
  SpinBudget budget(absl::Microseconds(50));
  EXPECT_EQ(budget.NextSpin(), absl::Microseconds(50));
}

TEST(SpinBudgetTest, SleepsInARowStopTheSpinning) {
  SpinBudget budget(absl::Microseconds(50), /*probe_every=*/1000);
  for (int i = 0; i < 10; ++i) {
    budget.NextSpin();
    budget.Slept(absl::Milliseconds(5));
  }
  EXPECT_EQ(budget.current(), absl::ZeroDuration());
  EXPECT_EQ(budget.NextSpin(), absl::ZeroDuration());
}

TEST(SpinBudgetTest, EveryNthWaitProbesWithTheWholeSpin) {
  SpinBudget budget(absl::Microseconds(50), /*probe_every=*/4);
  for (int i = 0; i < 10; ++i) {
    budget.Slept(absl::Milliseconds(5));
  }
  EXPECT_EQ(budget.NextSpin(), absl::ZeroDuration());
  EXPECT_EQ(budget.NextSpin(), absl::ZeroDuration());
  EXPECT_EQ(budget.NextSpin(), absl::ZeroDuration());
  EXPECT_EQ(budget.NextSpin(), absl::Microseconds(50));
}

TEST(SpinBudgetTest, ACaughtProbeBringsTheSpinBack) {
  SpinBudget budget(absl::Microseconds(50), /*probe_every=*/4);
  for (int i = 0; i < 10; ++i) {
    budget.Slept(absl::Milliseconds(5));
  }
  budget.CaughtWhileSpinning(absl::Microseconds(8));
  EXPECT_GE(budget.current(), absl::Microseconds(8));
  EXPECT_LE(budget.current(), absl::Microseconds(50));
}

TEST(SpinBudgetTest, QuickCompletionsKeepTheSpinNearTwiceTheirWait) {
  SpinBudget budget(absl::Microseconds(50), /*probe_every=*/1000);
  for (int i = 0; i < 100; ++i) {
    budget.NextSpin();
    budget.CaughtWhileSpinning(absl::Microseconds(5));
  }
  EXPECT_GE(budget.current(), absl::Microseconds(5));
  EXPECT_LE(budget.current(), absl::Microseconds(12));
}

TEST(SpinBudgetTest, ANearMissGrowsTheSpinBackToTheMaximum) {
  SpinBudget budget(absl::Microseconds(50), /*probe_every=*/1000);
  for (int i = 0; i < 10; ++i) {
    budget.Slept(absl::Milliseconds(5));
  }
  ASSERT_EQ(budget.current(), absl::ZeroDuration());
  // Woken 30 us after a wait began: spinning a little longer pays.
  for (int i = 0; i < 8; ++i) {
    budget.Slept(absl::Microseconds(180));
  }
  EXPECT_EQ(budget.current(), absl::Microseconds(50));
}

TEST(SpinBudgetTest, NeverExceedsTheMaximum) {
  SpinBudget budget(absl::Microseconds(50), /*probe_every=*/1000);
  for (int i = 0; i < 100; ++i) {
    budget.CaughtWhileSpinning(absl::Microseconds(49));
  }
  EXPECT_EQ(budget.current(), absl::Microseconds(50));
}

}  // namespace
}  // namespace swift::wait_internal
