#include "daemon/functions/invocation_stats.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(InvocationStatsTest, CountsPerModeWithFailuresAndLatencies) {
  InvocationStats stats;
  stats.Record("f", v1::InvokeRequest::WARM, absl::OkStatus(),
               absl::Microseconds(300));
  stats.Record("f", v1::InvokeRequest::WARM, absl::AbortedError("rc 1"),
               absl::Microseconds(400));
  stats.Record("f", v1::InvokeRequest::FORK, absl::OkStatus(),
               absl::Milliseconds(2));
  // Unspecified is served as FORK, and counted so.
  stats.Record("f", v1::InvokeRequest::MODE_UNSPECIFIED, absl::OkStatus(),
               absl::Milliseconds(2));
  stats.Record("g", v1::InvokeRequest::COLD, absl::OkStatus(),
               absl::Milliseconds(30));

  const std::vector<v1::InvocationModeStats> f = stats.Of("f");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].mode(), v1::InvokeRequest::COLD);
  EXPECT_EQ(f[0].invocations(), 0u);
  EXPECT_EQ(f[0].latency().count(), 0u);
  EXPECT_EQ(f[1].mode(), v1::InvokeRequest::WARM);
  EXPECT_EQ(f[1].invocations(), 2u);
  EXPECT_EQ(f[1].failures(), 1u);
  EXPECT_EQ(f[1].latency().count(), 2u);
  EXPECT_EQ(f[1].latency().sum_us(), 700u);
  EXPECT_EQ(f[2].mode(), v1::InvokeRequest::FORK);
  EXPECT_EQ(f[2].invocations(), 2u);
  EXPECT_EQ(f[2].failures(), 0u);
  EXPECT_EQ(f[2].latency().sum_us(), 4000u);

  const std::vector<v1::InvocationModeStats> g = stats.Of("g");
  EXPECT_EQ(g[0].invocations(), 1u);
  EXPECT_EQ(g[1].invocations() + g[2].invocations(), 0u);
}

TEST(InvocationStatsTest, UnknownFunctionHasZerosWithTheBounds) {
  InvocationStats stats;
  const std::vector<v1::InvocationModeStats> none = stats.Of("nobody");
  ASSERT_EQ(none.size(), 3u);
  for (const v1::InvocationModeStats& mode : none) {
    EXPECT_EQ(mode.invocations(), 0u);
    EXPECT_EQ(mode.latency().counts_size(),
              static_cast<int>(LatencyHistogram::kBuckets));
    EXPECT_GT(mode.latency().upper_bounds_us_size(), 0);
  }
  EXPECT_EQ(stats.size(), 0u);
}

TEST(InvocationStatsTest, ForgetStartsAFunctionOverAndFreesItsEntry) {
  InvocationStats stats;
  stats.Record("f", v1::InvokeRequest::FORK, absl::OkStatus(),
               absl::Microseconds(80));
  EXPECT_EQ(stats.size(), 1u);
  stats.Forget("f");
  EXPECT_EQ(stats.size(), 0u);
  EXPECT_EQ(stats.Of("f")[2].invocations(), 0u);
  stats.Record("f", v1::InvokeRequest::FORK, absl::OkStatus(),
               absl::Microseconds(80));
  EXPECT_EQ(stats.Of("f")[2].invocations(), 1u);
}

TEST(InvocationStatsTest, TracksAtMostMaxFunctions) {
  InvocationStats stats;
  for (size_t i = 0; i < InvocationStats::kMaxFunctions + 10; ++i) {
    stats.Record(absl::StrCat("f", i), v1::InvokeRequest::FORK,
                 absl::OkStatus(), absl::Microseconds(80));
  }
  EXPECT_EQ(stats.size(), InvocationStats::kMaxFunctions);
  // One already tracked still counts.
  stats.Record("f0", v1::InvokeRequest::FORK, absl::OkStatus(),
               absl::Microseconds(80));
  EXPECT_EQ(stats.Of("f0")[2].invocations(), 2u);
  EXPECT_EQ(stats.Of(absl::StrCat("f", InvocationStats::kMaxFunctions))[2]
                .invocations(),
            0u);
}

TEST(InvocationStatsTest, ConcurrentRecordsAreAllCounted) {
  InvocationStats stats;
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&stats] {
      for (int i = 0; i < kEach; ++i) {
        stats.Record("f", v1::InvokeRequest::WARM, absl::OkStatus(),
                     absl::Microseconds(i));
        (void)stats.Of("f");
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  const v1::InvocationModeStats warm = stats.Of("f")[1];
  EXPECT_EQ(warm.invocations(), uint64_t{kThreads} * kEach);
  uint64_t in_buckets = 0;
  for (uint64_t count : warm.latency().counts()) {
    in_buckets += count;
  }
  EXPECT_EQ(in_buckets, warm.invocations());
}

}  // namespace
}  // namespace swift
