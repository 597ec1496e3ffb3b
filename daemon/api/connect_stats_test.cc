#include "daemon/api/connect_stats.h"

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(ConnectStatsTest, AllHoldsEveryTenantsConnectsAndEachTenantItsOwn) {
  ConnectStats stats;
  stats.Record(1000, absl::Microseconds(700));
  stats.Record(1000, absl::Microseconds(800));
  stats.Record(1001, absl::Milliseconds(20));
  const v1::LatencyHistogram all = stats.All();
  EXPECT_EQ(all.count(), 3u);
  EXPECT_EQ(all.sum_us(), 21500u);
  const v1::LatencyHistogram mine = stats.Of(1000);
  EXPECT_EQ(mine.count(), 2u);
  EXPECT_EQ(mine.sum_us(), 1500u);
  EXPECT_EQ(stats.Of(1001).count(), 1u);
}

TEST(ConnectStatsTest, ATenantWithoutConnectsGetsAnEmptyHistogramWithBounds) {
  ConnectStats stats;
  stats.Record(1000, absl::Microseconds(700));
  const v1::LatencyHistogram none = stats.Of(2000);
  EXPECT_EQ(none.count(), 0u);
  EXPECT_EQ(none.counts_size(), static_cast<int>(LatencyHistogram::kBuckets));
  for (uint64_t count : none.counts()) {
    EXPECT_EQ(count, 0u);
  }
}

TEST(ConnectStatsTest, TenantsPastTheCapCountInTheTotalOnly) {
  ConnectStats stats;
  for (uid_t uid = 0; uid < ConnectStats::kMaxTenants + 5; ++uid) {
    stats.Record(uid, absl::Microseconds(100));
  }
  EXPECT_EQ(stats.All().count(), ConnectStats::kMaxTenants + 5);
  EXPECT_EQ(stats.Of(0).count(), 1u);
  EXPECT_EQ(stats.Of(ConnectStats::kMaxTenants + 1).count(), 0u);
}

}  // namespace
}  // namespace swift
