// BrokerQuotas: per-tenant counts, refusals that name the flag, root
// counted but never refused, and nothing left over once released.
#include "daemon/broker/broker_quotas.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using Resource = BrokerQuotas::Resource;

BrokerQuotas::Limits Small() {
  BrokerQuotas::Limits limits;
  limits.connections = 2;
  limits.services = 1;
  limits.pooled_endpoints = 10;
  return limits;
}

TEST(BrokerQuotasTest, OverAQuotaIsResourceExhaustedNamingItsFlag) {
  BrokerQuotas quotas(Small());
  ASSERT_TRUE(quotas.Acquire(1000, Resource::kConnections).ok());
  ASSERT_TRUE(quotas.Acquire(1000, Resource::kConnections).ok());
  absl::Status third = quotas.Acquire(1000, Resource::kConnections);
  EXPECT_TRUE(absl::IsResourceExhausted(third)) << third;
  EXPECT_TRUE(absl::StrContains(third.message(), "--max_connections_per_tenant"))
      << third;
  EXPECT_TRUE(absl::StrContains(third.message(), "uid 1000")) << third;

  ASSERT_TRUE(quotas.Acquire(1000, Resource::kServices).ok());
  absl::Status service = quotas.Acquire(1000, Resource::kServices);
  EXPECT_TRUE(absl::StrContains(service.message(), "--max_services_per_tenant"))
      << service;

  // All or nothing: 11 endpoints do not fit in 10.
  absl::Status endpoints = quotas.Acquire(1000, Resource::kPooledEndpoints, 11);
  EXPECT_TRUE(absl::IsResourceExhausted(endpoints));
  EXPECT_TRUE(absl::StrContains(endpoints.message(),
                                "--max_pooled_endpoints_per_tenant"))
      << endpoints;
  EXPECT_EQ(quotas.Of(1000).pooled_endpoints, 0);
  EXPECT_TRUE(quotas.Acquire(1000, Resource::kPooledEndpoints, 10).ok());
}

// A config reload: a lowered quota refuses what is asked next and takes
// nothing back; a raised one lets it in.
TEST(BrokerQuotasTest, NewLimitsApplyToWhatIsAskedNext) {
  BrokerQuotas quotas(Small());
  ASSERT_TRUE(quotas.Acquire(1000, Resource::kConnections).ok());
  ASSERT_TRUE(quotas.Acquire(1000, Resource::kConnections).ok());
  BrokerQuotas::Limits lower = Small();
  lower.connections = 1;
  quotas.SetLimits(lower);
  EXPECT_TRUE(
      absl::IsResourceExhausted(quotas.Acquire(1000, Resource::kConnections)));
  EXPECT_EQ(quotas.Of(1000).connections, 2);
  BrokerQuotas::Limits higher = Small();
  higher.connections = 3;
  quotas.SetLimits(higher);
  EXPECT_TRUE(quotas.Acquire(1000, Resource::kConnections).ok());
  EXPECT_EQ(quotas.limits().connections, 3);
}

TEST(BrokerQuotasTest, TenantsAreCountedApart) {
  BrokerQuotas quotas(Small());
  ASSERT_TRUE(quotas.Acquire(1000, Resource::kServices).ok());
  EXPECT_TRUE(quotas.Acquire(1001, Resource::kServices).ok());
  EXPECT_EQ(quotas.Of(1000).services, 1);
  EXPECT_EQ(quotas.Of(1001).services, 1);
  EXPECT_EQ(quotas.Of(1002).services, 0);
  EXPECT_EQ(quotas.List().size(), 2u);
}

TEST(BrokerQuotasTest, RootIsCountedButNeverRefused) {
  BrokerQuotas quotas(Small());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(quotas.Acquire(0, Resource::kConnections).ok());
  }
  EXPECT_EQ(quotas.Of(0).connections, 5);
}

TEST(BrokerQuotasTest, ReleaseGivesBackAndForgetsIdleTenants) {
  BrokerQuotas quotas(Small());
  ASSERT_TRUE(quotas.Acquire(7, Resource::kConnections).ok());
  ASSERT_TRUE(quotas.Acquire(7, Resource::kPooledEndpoints, 4).ok());
  quotas.Release(7, Resource::kConnections);
  quotas.Release(7, Resource::kPooledEndpoints, 4);
  EXPECT_TRUE(quotas.List().empty());
  // More releases than acquisitions never go negative.
  quotas.Release(7, Resource::kConnections);
  EXPECT_EQ(quotas.Of(7).connections, 0);
}

TEST(BrokerQuotasTest, ConcurrentAcquiresNeverOvershoot) {
  BrokerQuotas::Limits limits;
  limits.connections = 50;
  BrokerQuotas quotas(limits);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (quotas.Acquire(1000, Resource::kConnections).ok()) {
          ++granted;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(granted.load(), 50);
  EXPECT_EQ(quotas.Of(1000).connections, 50);
}

}  // namespace
}  // namespace swift
