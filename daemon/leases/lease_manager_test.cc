#include "daemon/leases/lease_manager.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>

#include "absl/strings/match.h"
#include "common/testing/eventually.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;

constexpr uint64_t kRegion = 1 << 20;

LeaseManager::Options SmallOptions() {
  LeaseManager::Options options;
  options.pools.region_bytes = kRegion;
  options.pools.regions_per_tenant = 2;
  options.pools.try_hugepages = false;
  options.quotas.leases_per_tenant = 3;
  options.quotas.bytes_per_tenant = 8 * kRegion;
  options.quotas.bytes_total = 64 * kRegion;
  return options;
}

LeaseManager::Holder HolderOf(uid_t uid, uint64_t channel) {
  return LeaseManager::Holder{channel, uid, 4242, "test"};
}

v1::LeaseCall Call(uint64_t bytes, const std::string& device = "") {
  v1::LeaseCall call;
  call.set_bytes(bytes);
  call.set_device(device);
  return call;
}

int ReadyOf(const LeaseManager& leases, uid_t uid) {
  for (const LeasePools::PoolStats& pool : leases.pools().Stats()) {
    if (pool.uid == uid) {
      return pool.ready;
    }
  }
  return -1;
}

TEST(LeaseManagerTest, FirstLeaseIsPopulatedNowThenThePoolServes) {
  LeaseManager leases(SmallOptions());
  absl::StatusOr<LeaseManager::Grant> first =
      leases.Lease(HolderOf(1000, 1), Call(100000));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->result.from_pool());
  EXPECT_EQ(first->result.size_bytes(), MemfdRegion::RoundUp(100000, false));
  ASSERT_TRUE(Eventually([&] { return ReadyOf(leases, 1000) == 2; }));
  EXPECT_GE(leases.pools().populated_bytes(), 2 * kRegion);

  absl::StatusOr<LeaseManager::Grant> second =
      leases.Lease(HolderOf(1000, 1), Call(kRegion));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->result.from_pool());
  EXPECT_NE(second->result.lease_id(), first->result.lease_id());
  // The holder's fd: the lease's size, sealed, zero.
  struct stat info = {};
  ASSERT_EQ(fstat(second->fd.get(), &info), 0);
  EXPECT_EQ(static_cast<uint64_t>(info.st_size), kRegion);
  EXPECT_EQ(
      fcntl(second->fd.get(), F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW),
      F_SEAL_SHRINK | F_SEAL_GROW);
  auto* bytes = static_cast<unsigned char*>(
      mmap(nullptr, kRegion, PROT_READ, MAP_SHARED, second->fd.get(), 0));
  ASSERT_NE(bytes, MAP_FAILED);
  for (uint64_t i = 0; i < kRegion; i += 512) {
    ASSERT_EQ(bytes[i], 0);
  }
  munmap(bytes, kRegion);
  EXPECT_EQ(leases.lease_count(), 2);
}

TEST(LeaseManagerTest, AnotherTenantCannotReleaseOrSeeALease) {
  LeaseManager leases(SmallOptions());
  absl::StatusOr<LeaseManager::Grant> root =
      leases.Lease(HolderOf(0, 1), Call(4096));
  ASSERT_TRUE(root.ok());
  const uint64_t id = root->result.lease_id();
  EXPECT_EQ(leases.Release(65534, id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(leases.List(65534).leases_size(), 0);
  EXPECT_EQ(leases.List(65534).total_leases(), 0u);
  EXPECT_EQ(leases.List(0).leases_size(), 1);
  EXPECT_EQ(leases.lease_count(), 1);
  absl::StatusOr<uint64_t> released = leases.Release(0, id);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, 4096u);
  EXPECT_EQ(leases.lease_count(), 0);
  EXPECT_EQ(leases.quotas().UsageOf(0).leased_bytes, 0u);
}

TEST(LeaseManagerTest, ClosingTheConnectionReclaimsItsLeasesOnly) {
  LeaseManager leases(SmallOptions());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(leases.Lease(HolderOf(1000, 7), Call(8192)).ok());
  }
  ASSERT_TRUE(leases.Lease(HolderOf(1001, 8), Call(8192)).ok());
  EXPECT_EQ(leases.HoldingsByChannel()[7].leases, 3);
  EXPECT_EQ(leases.ReleaseAllOf(7), 3);
  EXPECT_EQ(leases.lease_count(), 1);
  EXPECT_EQ(leases.quotas().UsageOf(1000).leases, 0);
  EXPECT_EQ(leases.quotas().UsageOf(1000).leased_bytes, 0u);
  EXPECT_EQ(leases.ReleaseAllOf(8), 1);
  EXPECT_EQ(leases.lease_count(), 0);
  EXPECT_EQ(leases.leased_bytes(), 0u);
  // The pools refill to their target again.
  EXPECT_TRUE(Eventually([&] {
    return ReadyOf(leases, 1000) == 2 && ReadyOf(leases, 1001) == 2;
  }));
}

TEST(LeaseManagerTest, QuotasRefuseNamingTheFlag) {
  LeaseManager leases(SmallOptions());
  absl::StatusOr<LeaseManager::Grant> big =
      leases.Lease(HolderOf(1000, 1), Call(9 * kRegion));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(big.status().message(),
                                "--max_lease_bytes_per_tenant"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(leases.Lease(HolderOf(1000, 1), Call(4096)).ok());
  }
  absl::StatusOr<LeaseManager::Grant> fourth =
      leases.Lease(HolderOf(1000, 1), Call(4096));
  EXPECT_EQ(fourth.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      absl::StrContains(fourth.status().message(), "--max_leases_per_tenant"));
  EXPECT_EQ(leases.Lease(HolderOf(1000, 1), Call(0)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LeaseManagerTest, UnknownDeviceIsNotFound) {
  LeaseManager::Options options = SmallOptions();
  options.check_device = [](const std::string& device) {
    return device == "rxe0" ? absl::OkStatus()
                            : absl::NotFoundError("no device " + device);
  };
  LeaseManager leases(options);
  EXPECT_EQ(leases.Lease(HolderOf(0, 1), Call(4096, "mlx5_9")).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<LeaseManager::Grant> ok =
      leases.Lease(HolderOf(0, 1), Call(4096, "rxe0"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(leases.List(0).leases(0).device(), "rxe0");
}

// A device gone from the host: its leases (only its) say so to their
// tenant, still count until released, and release cleanly.
TEST(LeaseManagerTest, LeasesOfARemovedDeviceFailTheirCheckAndRelease) {
  LeaseManager leases(SmallOptions());
  absl::StatusOr<LeaseManager::Grant> gone =
      leases.Lease(HolderOf(1000, 1), Call(4096, "rxeB"));
  absl::StatusOr<LeaseManager::Grant> kept =
      leases.Lease(HolderOf(1000, 1), Call(4096, "rxeA"));
  ASSERT_TRUE(gone.ok() && kept.ok());
  const uint64_t gone_id = gone->result.lease_id();
  const uint64_t kept_id = kept->result.lease_id();
  EXPECT_EQ(*leases.Check(1000, gone_id), "rxeB");

  EXPECT_EQ(leases.DeviceRemoved("rxeB", "RDMA device rxeB was removed"), 1);
  absl::StatusOr<std::string> check = leases.Check(1000, gone_id);
  EXPECT_EQ(check.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(check.status().message(),
                                "RDMA device rxeB, which is gone: RDMA device "
                                "rxeB was removed"))
      << check.status();
  EXPECT_EQ(*leases.Check(1000, kept_id), "rxeA");
  // Another tenant learns nothing of it.
  EXPECT_EQ(leases.Check(1001, gone_id).status().code(),
            absl::StatusCode::kNotFound);
  const v1::ListLeasesResponse listed = leases.List(1000);
  ASSERT_EQ(listed.leases_size(), 2);
  EXPECT_EQ(listed.leases(0).device_error(), "RDMA device rxeB was removed");
  EXPECT_EQ(listed.leases(1).device_error(), "");
  EXPECT_EQ(leases.lease_count(), 2);  // Counted until released.

  ASSERT_TRUE(leases.Release(1000, gone_id).ok());
  ASSERT_TRUE(leases.Release(1000, kept_id).ok());
  EXPECT_EQ(leases.lease_count(), 0);
  EXPECT_EQ(leases.quotas().UsageOf(1000).leases, 0);
}

TEST(LeaseManagerTest, IdlePoolsOfTenantsWithoutLeasesAreDropped) {
  LeaseManager::Options options = SmallOptions();
  options.pools.idle_timeout = absl::Milliseconds(50);
  LeaseManager leases(options);
  absl::StatusOr<LeaseManager::Grant> lease =
      leases.Lease(HolderOf(1000, 1), Call(4096));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(Eventually([&] { return ReadyOf(leases, 1000) == 2; }));
  ASSERT_TRUE(leases.Release(1000, lease->result.lease_id()).ok());
  EXPECT_TRUE(Eventually([&] {
    return ReadyOf(leases, 1000) == -1 && leases.quotas().total_bytes() == 0;
  }));
}

}  // namespace
}  // namespace swift
