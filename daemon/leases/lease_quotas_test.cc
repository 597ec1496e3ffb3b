#include "daemon/leases/lease_quotas.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

LeaseQuotas::Limits SmallLimits() {
  LeaseQuotas::Limits limits;
  limits.leases_per_tenant = 2;
  limits.bytes_per_tenant = 100;
  limits.bytes_total = 150;
  return limits;
}

TEST(LeaseQuotasTest, RefusesEachQuotaNamingItsFlag) {
  LeaseQuotas quotas(SmallLimits());
  ASSERT_TRUE(quotas.AcquireLease(1000, 10).ok());
  ASSERT_TRUE(quotas.AcquireLease(1000, 10).ok());
  absl::Status count = quotas.AcquireLease(1000, 10);
  EXPECT_EQ(count.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(count.message(), "--max_leases_per_tenant"));

  absl::Status bytes = quotas.AcquireLease(1001, 101);
  EXPECT_EQ(bytes.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      absl::StrContains(bytes.message(), "--max_lease_bytes_per_tenant"));

  ASSERT_TRUE(quotas.AcquireLease(1001, 100).ok());
  absl::Status total = quotas.AcquireLease(0, 40);  // Root too.
  EXPECT_EQ(total.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(total.message(), "--max_lease_bytes_total"));
}

TEST(LeaseQuotasTest, RootIsCountedButNotRefusedPerTenant) {
  LeaseQuotas quotas(SmallLimits());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(quotas.AcquireLease(0, 20).ok());
  }
  EXPECT_EQ(quotas.UsageOf(0).leases, 5);
  EXPECT_EQ(quotas.total_bytes(), 100u);
}

TEST(LeaseQuotasTest, PooledBytesCountAgainstTenantAndHostUntilConverted) {
  LeaseQuotas quotas(SmallLimits());
  EXPECT_TRUE(quotas.ReservePooled(1000, 60));
  EXPECT_FALSE(quotas.ReservePooled(1000, 60));  // 120 > 100 per tenant.
  ASSERT_TRUE(quotas.ConvertPooled(1000, 60, 40).ok());
  EXPECT_EQ(quotas.UsageOf(1000).leased_bytes, 40u);
  EXPECT_EQ(quotas.UsageOf(1000).pooled_bytes, 0u);
  EXPECT_EQ(quotas.total_bytes(), 40u);
  quotas.ReleaseLease(1000, 40);
  EXPECT_EQ(quotas.UsageOf(1000).leases, 0);
  EXPECT_EQ(quotas.total_bytes(), 0u);
}

TEST(LeaseQuotasTest, EverythingGivenBackLeavesZero) {
  LeaseQuotas quotas(SmallLimits());
  ASSERT_TRUE(quotas.AcquireLease(7, 50).ok());
  quotas.ShrinkLease(7, 50, 30);
  EXPECT_TRUE(quotas.ReservePooled(7, 20));
  quotas.ReleasePooled(7, 20);
  quotas.ReleaseLease(7, 30);
  const LeaseQuotas::Usage usage = quotas.UsageOf(7);
  EXPECT_EQ(usage.leases, 0);
  EXPECT_EQ(usage.leased_bytes, 0u);
  EXPECT_EQ(usage.pooled_bytes, 0u);
  EXPECT_EQ(quotas.total_bytes(), 0u);
}

}  // namespace
}  // namespace swift
