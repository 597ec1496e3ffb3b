// Tests for CpuSet: the list syntax both ways, its errors, and a thread's
// affinity applied, inherited by a thread it starts, and restored.
#include "common/cpu_set.h"

#include <thread>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(CpuSetTest, ParsesNumbersAndRangesAndPrintsThemFolded) {
  absl::StatusOr<CpuSet> cpus = CpuSet::Parse(" 8, 0-2 ,3,10-11");
  ASSERT_TRUE(cpus.ok()) << cpus.status();
  EXPECT_EQ(cpus->ToString(), "0-3,8,10-11");
  EXPECT_EQ(cpus->Count(), 7);
  EXPECT_EQ(cpus->First(), 0);
  EXPECT_TRUE(cpus->Contains(8));
  EXPECT_FALSE(cpus->Contains(9));
  EXPECT_EQ(*CpuSet::Parse(cpus->ToString()), *cpus);
  EXPECT_EQ(CpuSet::Parse("5")->ToString(), "5");
  EXPECT_EQ(CpuSet().ToString(), "");
  EXPECT_EQ(CpuSet().First(), -1);
}

TEST(CpuSetTest, RefusesWhatIsNotACpuList) {
  for (const char* bad : {"", " ", "a", "1,", "-1", "+1", "3-1", "1-2-3",
                          "0,,1", "99999", "1.5"}) {
    absl::StatusOr<CpuSet> cpus = CpuSet::Parse(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(cpus.status()))
        << "'" << bad << "' -> " << cpus.status();
  }
  EXPECT_TRUE(absl::StrContains(CpuSet::Parse("3-1").status().message(),
                                "runs backwards"));
  EXPECT_TRUE(
      absl::StrContains(CpuSet::Parse("x").status().message(), "taskset -c"));
}

TEST(CpuSetTest, SubsetsCompare) {
  const CpuSet small = *CpuSet::Parse("1");
  const CpuSet large = *CpuSet::Parse("0-3");
  EXPECT_TRUE(small.IsSubsetOf(large));
  EXPECT_FALSE(large.IsSubsetOf(small));
  EXPECT_TRUE(CpuSet().IsSubsetOf(small));
}

TEST(CpuSetTest, AThreadsAffinityIsInheritedAndRestored) {
  absl::StatusOr<CpuSet> allowed = CpuSet::OfThisThread();
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  ASSERT_FALSE(allowed->empty());
  // In a thread of its own: the test's main thread keeps its affinity.
  std::thread([&] {
    CpuSet one;
    one.Add(allowed->First());
    ASSERT_TRUE(one.ApplyToThisThread().ok());
    EXPECT_EQ(*CpuSet::OfThisThread(), one);
    CpuSet inherited;
    std::thread([&] { inherited = *CpuSet::OfThisThread(); }).join();
    EXPECT_EQ(inherited, one);
    ASSERT_TRUE(allowed->ApplyToThisThread().ok());
    EXPECT_EQ(*CpuSet::OfThisThread(), *allowed);
  }).join();
}

TEST(CpuSetTest, ApplyingNoUsableCpuIsRefused) {
  // CPU_SETSIZE - 1 exists on no machine these tests run on.
  CpuSet none;
  none.Add(CPU_SETSIZE - 1);
  absl::Status applied = none.ApplyToThisThread();
  EXPECT_TRUE(absl::IsInvalidArgument(applied)) << applied;
}

}  // namespace
}  // namespace swift
