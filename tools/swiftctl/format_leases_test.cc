#include "tools/swiftctl/format_leases.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace swift::swiftctl {
namespace {

TEST(FormatLeasesTest, FormatsBytesInBinaryUnits) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(4096), "4 KiB");
  EXPECT_EQ(FormatBytes(uint64_t{4} << 20), "4 MiB");
  EXPECT_EQ(FormatBytes(uint64_t{3} << 29), "1.5 GiB");
}

TEST(FormatLeasesTest, ShowsEachLeaseTotalsPoolsAndQuotas) {
  v1::ListLeasesResponse response;
  v1::LeaseInfo* lease = response.add_leases();
  lease->set_lease_id(7);
  lease->set_tenant_uid(1000);
  lease->set_holder_pid(4242);
  lease->set_holder_name("app");
  lease->set_size_bytes(4 << 20);
  lease->set_hugepage(true);
  lease->set_age_us(3000000);
  response.set_total_leases(1);
  response.set_total_bytes(4 << 20);
  v1::LeasePoolInfo* pool = response.add_pools();
  pool->set_tenant_uid(1000);
  pool->set_ready_regions(2);
  pool->set_ready_bytes(8 << 20);
  response.set_max_leases_per_tenant(64);
  response.set_max_lease_bytes_per_tenant(1 << 30);
  response.set_max_lease_bytes_total(0);
  response.set_populated_bytes(8 << 20);
  response.set_populate_us(1600);
  const std::string table = FormatLeases(response);
  EXPECT_TRUE(absl::StrContains(table, "HUGEPAGE")) << table;
  EXPECT_TRUE(absl::StrContains(table, "4242")) << table;
  EXPECT_TRUE(absl::StrContains(table, "4 MiB")) << table;
  EXPECT_TRUE(absl::StrContains(table, "yes")) << table;
  EXPECT_TRUE(absl::StrContains(table, "total: 1 lease(s), 4 MiB")) << table;
  EXPECT_TRUE(absl::StrContains(table, "pool of uid 1000: 2 region(s) ready"))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "(200 us per MiB)")) << table;
  EXPECT_TRUE(absl::StrContains(table, "no limit in all")) << table;
}

TEST(FormatLeasesTest, ALeaseOfAGoneDeviceSaysSo) {
  v1::ListLeasesResponse response;
  v1::LeaseInfo* lease = response.add_leases();
  lease->set_lease_id(9);
  lease->set_device("rxeB");
  lease->set_device_error("RDMA device rxeB was removed from the host");
  v1::LeaseInfo* kept = response.add_leases();
  kept->set_lease_id(10);
  kept->set_device("rxeA");
  const std::string table = FormatLeases(response);
  EXPECT_TRUE(absl::StrContains(table, "rxeB (gone)")) << table;
  EXPECT_FALSE(absl::StrContains(table, "rxeA (gone)")) << table;
  EXPECT_TRUE(absl::StrContains(
      table,
      "lease 9: device rxeB is gone: RDMA device rxeB was removed from the "
      "host\n"))
      << table;
}

TEST(FormatLeasesTest, ShowsClientsWithTheirLeases) {
  v1::ListClientsResponse response;
  EXPECT_EQ(FormatClients(response), "No fast path clients attached.\n");
  v1::AttachedClient* client = response.add_clients();
  client->set_channel_id(3);
  client->set_pid(99);
  client->set_uid(65534);
  client->set_name("bench");
  client->set_kind("calls");
  client->set_leases(2);
  client->set_lease_bytes(8 << 20);
  client->set_shared_contexts(3);
  const std::string table = FormatClients(response);
  EXPECT_TRUE(absl::StrContains(table, "CONTEXTS")) << table;
  EXPECT_TRUE(absl::StrContains(table, "65534")) << table;
  EXPECT_TRUE(absl::StrContains(table, "calls")) << table;
  EXPECT_TRUE(absl::StrContains(table, "8 MiB")) << table;
  EXPECT_TRUE(absl::StrContains(table, "8 MiB   3")) << table;
}

}  // namespace
}  // namespace swift::swiftctl
