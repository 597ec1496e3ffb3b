// Tests of TenantQuotas (tenant_quotas.h): per-tenant functions, instances
// and COLD workers, workers in all; over-quota names its flag.
#include "daemon/functions/tenant_quotas.h"

#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

class TenantQuotasTest : public ::testing::Test {
 protected:
  TenantQuotas::Limits Limits() {
    TenantQuotas::Limits limits;
    limits.max_functions_per_tenant = 2;
    limits.max_instances_per_tenant = 20;
    limits.max_cold_workers_per_tenant = 1;
    limits.max_workers = 5;
    return limits;
  }

  // A stand-in for the registry.
  TenantQuotas::RegisteredFunctions Registry() {
    return [this] { return registered_; };
  }

  void Register(const std::string& name, uid_t tenant, uint64_t instances) {
    registered_.push_back({name, tenant, instances});
  }

  static void ExpectExhausted(const absl::Status& status,
                              const std::string& flag) {
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), flag)) << status;
  }

  std::vector<TenantQuotas::Registered> registered_;
};

TEST_F(TenantQuotasTest, FunctionsPerTenant) {
  TenantQuotas quotas(Limits(), Registry());
  Register("a", 1000, 9);
  {
    // Claimed, not registered yet: counts already.
    absl::StatusOr<TenantQuotas::Claim> b = quotas.ClaimFunction("b", 1000, 9);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(quotas.UsageOf(1000).functions, 2u);
    ExpectExhausted(quotas.ClaimFunction("c", 1000, 1).status(),
                    "--max_functions_per_tenant=2");
    // Another tenant has its own quota.
    EXPECT_TRUE(quotas.ClaimFunction("c", 1001, 9).ok());
  }
  // The claim ended (the registration failed): room again.
  EXPECT_EQ(quotas.UsageOf(1000).functions, 1u);
  EXPECT_TRUE(quotas.ClaimFunction("b", 1000, 9).ok());
  // Re-registering a name (its exited worker replaced) does not count
  // twice.
  Register("b", 1000, 9);
  EXPECT_TRUE(quotas.ClaimFunction("b", 1000, 9).ok());
  ExpectExhausted(quotas.ClaimFunction("c", 1000, 1).status(),
                  "--max_functions_per_tenant");
}

TEST_F(TenantQuotasTest, InstancesPerTenant) {
  TenantQuotas quotas(Limits(), Registry());
  Register("a", 1000, 12);
  absl::Status over = quotas.ClaimFunction("b", 1000, 9).status();
  ExpectExhausted(over, "--max_instances_per_tenant=20");
  EXPECT_TRUE(absl::StrContains(over.message(), "function 'b' would hold 9"))
      << over;
  EXPECT_TRUE(quotas.ClaimFunction("b", 1000, 8).ok());
  // One function alone may not exceed it either.
  ExpectExhausted(quotas.ClaimFunction("big", 1001, 21).status(),
                  "--max_instances_per_tenant");
}

TEST_F(TenantQuotasTest, ColdWorkersPerTenantAndWorkersInAll) {
  TenantQuotas quotas(Limits(), Registry());
  std::optional<TenantQuotas::Claim> cold;
  {
    absl::StatusOr<TenantQuotas::Claim> claimed = quotas.ClaimColdWorker(1000);
    ASSERT_TRUE(claimed.ok()) << claimed.status();
    cold.emplace(*std::move(claimed));
  }
  ExpectExhausted(quotas.ClaimColdWorker(1000).status(),
                  "--max_cold_workers_per_tenant=1");
  EXPECT_EQ(quotas.UsageOf(1000).cold_workers, 1u);
  Register("a", 1001, 1);
  Register("b", 1002, 1);
  Register("c", 0, 1);
  EXPECT_EQ(quotas.workers(), 4u);
  absl::StatusOr<TenantQuotas::Claim> fifth =
      quotas.ClaimFunction("d", 1003, 1);
  ASSERT_TRUE(fifth.ok());
  // Root is exempt from the per-tenant quotas, not from the total.
  ExpectExhausted(quotas.ClaimColdWorker(0).status(), "--max_workers=5");
  ExpectExhausted(quotas.ClaimFunction("e", 0, 1).status(), "--max_workers");
  cold.reset();
  EXPECT_EQ(quotas.UsageOf(1000).cold_workers, 0u);
  EXPECT_TRUE(quotas.ClaimColdWorker(0).ok());
}

TEST_F(TenantQuotasTest, RootIsExemptFromPerTenantQuotas) {
  TenantQuotas::Limits limits = Limits();
  limits.max_workers = 0;  // No total.
  TenantQuotas quotas(limits, Registry());
  for (const char* name : {"a", "b", "c"}) {
    Register(name, 0, 100);
  }
  EXPECT_TRUE(quotas.ClaimFunction("d", 0, 100).ok());
  absl::StatusOr<TenantQuotas::Claim> first = quotas.ClaimColdWorker(0);
  EXPECT_TRUE(first.ok());
  EXPECT_TRUE(quotas.ClaimColdWorker(0).ok());
}

TEST_F(TenantQuotasTest, ZeroMeansNoLimit) {
  TenantQuotas quotas(TenantQuotas::Limits{0, 0, 0, 0}, Registry());
  for (int i = 0; i < 100; ++i) {
    Register(std::to_string(i), 1000, 1000);
  }
  EXPECT_TRUE(quotas.ClaimFunction("x", 1000, 1000).ok());
  EXPECT_TRUE(quotas.ClaimColdWorker(1000).ok());
}

}  // namespace
}  // namespace swift
