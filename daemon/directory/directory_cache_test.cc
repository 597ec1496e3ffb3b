// Tests of DirectoryCache: records in, changes and lookups out.
#include "daemon/directory/directory_cache.h"

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/directory.pb.h"

namespace swift {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = DirectoryChange::Kind;

constexpr char kPrefix[] = "/swift/hosts/";

EtcdKeyValue HostKv(const std::string& host, uint64_t incarnation,
                    std::vector<std::string> services, int64_t revision = 1) {
  directory::v1::HostRecord record;
  record.set_host(host);
  record.set_peer_address(host + ".example:7471");
  record.set_incarnation(incarnation);
  for (const std::string& service : services) record.add_services(service);
  auto* device = record.add_devices();
  device->set_name("rxe0");
  device->set_gid("::ffff:10.0.0.1");
  EtcdKeyValue kv;
  kv.key = kPrefix + host;
  (void)google::protobuf::util::MessageToJsonString(record, &kv.value);
  kv.mod_revision = revision;
  return kv;
}

std::vector<std::string> Names(const std::vector<const DirectoryHost*>& hosts) {
  std::vector<std::string> names;
  for (const DirectoryHost* host : hosts) names.push_back(host->host);
  return names;
}

TEST(DirectoryCacheTest, PutThenFindAndOffering) {
  DirectoryCache cache(kPrefix);
  auto added = cache.Put(HostKv("b", 7, {"kv", "log"}), absl::Now());
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(added->kind, Kind::kAdded);
  cache.Put(HostKv("a", 3, {"kv"}), absl::Now());
  const DirectoryHost* b = cache.Find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->peer_address, "b.example:7471");
  EXPECT_EQ(b->incarnation, 7u);
  ASSERT_EQ(b->devices.size(), 1u);
  EXPECT_EQ(b->devices[0].gid, "::ffff:10.0.0.1");
  EXPECT_THAT(Names(cache.Offering("kv")), ElementsAre("a", "b"));
  EXPECT_THAT(Names(cache.Offering("log")), ElementsAre("b"));
  EXPECT_TRUE(cache.Offering("none").empty());
}

TEST(DirectoryCacheTest, ANewIncarnationIsARestartAndServicesFollow) {
  DirectoryCache cache(kPrefix);
  cache.Put(HostKv("b", 7, {"kv"}), absl::Now());
  auto same = cache.Put(HostKv("b", 7, {"log"}), absl::Now());
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->kind, Kind::kUpdated);
  EXPECT_TRUE(cache.Offering("kv").empty());
  auto restarted = cache.Put(HostKv("b", 8, {"log"}), absl::Now());
  ASSERT_TRUE(restarted.has_value());
  EXPECT_EQ(restarted->kind, Kind::kRestarted);
  EXPECT_EQ(restarted->old_incarnation, 7u);
  EXPECT_EQ(restarted->new_incarnation, 8u);
  EXPECT_THAT(restarted->reason, HasSubstr("restarted"));
  // Indexed once, under its current services only.
  EXPECT_THAT(Names(cache.Offering("log")), ElementsAre("b"));
  EXPECT_TRUE(cache.Offering("kv").empty());
}

// The service index holds pointers into the cache, sorted by name: records
// in any order, rewritten and removed, leave it sorted and exact.
TEST(DirectoryCacheTest, TheServiceIndexStaysSortedAndExact) {
  DirectoryCache cache(kPrefix);
  for (const char* host : {"m", "c", "x", "a", "q"}) {
    cache.Put(HostKv(host, 1, {"kv"}), absl::Now());
  }
  EXPECT_THAT(Names(cache.Offering("kv")),
              ElementsAre("a", "c", "m", "q", "x"));
  cache.Put(HostKv("c", 2, {"kv", "log"}), absl::Now());  // Restarted.
  cache.Put(HostKv("q", 1, {"log"}), absl::Now());        // Left kv.
  cache.Remove(std::string(kPrefix) + "a", absl::Now(), "gone");
  EXPECT_THAT(Names(cache.Offering("kv")), ElementsAre("c", "m", "x"));
  EXPECT_THAT(Names(cache.Offering("log")), ElementsAre("c", "q"));
  EXPECT_EQ(cache.Offering("kv")[0], cache.Find("c"));
  cache.Replace({HostKv("x", 1, {"kv"})}, absl::Now());
  EXPECT_THAT(Names(cache.Offering("kv")), ElementsAre("x"));
  EXPECT_TRUE(cache.Offering("log").empty());
}

TEST(DirectoryCacheTest, ARemovedHostIsRememberedWithItsReason) {
  DirectoryCache cache(kPrefix, /*max_departed=*/2);
  cache.Put(HostKv("b", 7, {"kv"}), absl::Now());
  auto removed =
      cache.Remove(std::string(kPrefix) + "b", absl::Now(), "lease expired");
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->kind, Kind::kRemoved);
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_TRUE(cache.Offering("kv").empty());
  ASSERT_NE(cache.Departed("b"), nullptr);
  EXPECT_EQ(cache.Departed("b")->reason, "lease expired");
  ASSERT_NE(cache.DepartedOffering("kv"), nullptr);
  EXPECT_EQ(cache.DepartedOffering("kv")->host, "b");
  // Removing what is not there is no change.
  EXPECT_FALSE(cache.Remove(std::string(kPrefix) + "b", absl::Now(), "x"));
  // Coming back clears the departure; the memory of departures is bounded.
  cache.Put(HostKv("b", 9, {"kv"}), absl::Now());
  EXPECT_EQ(cache.Departed("b"), nullptr);
  for (const char* host : {"c", "d", "e"}) {
    cache.Put(HostKv(host, 1, {}), absl::Now());
    cache.Remove(std::string(kPrefix) + host, absl::Now(), "gone");
  }
  EXPECT_EQ(cache.Departed("c"), nullptr);
  EXPECT_NE(cache.Departed("e"), nullptr);
}

TEST(DirectoryCacheTest, ReplaceReportsOnlyWhatChanged) {
  DirectoryCache cache(kPrefix);
  cache.Replace({HostKv("a", 1, {"kv"}), HostKv("b", 2, {"kv"})}, absl::Now());
  std::vector<DirectoryChange> changes =
      cache.Replace({HostKv("a", 1, {"kv"}), HostKv("c", 3, {})}, absl::Now());
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].kind, Kind::kAdded);
  EXPECT_EQ(changes[0].host, "c");
  EXPECT_EQ(changes[1].kind, Kind::kRemoved);
  EXPECT_EQ(changes[1].host, "b");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(DirectoryCacheTest, RefusesBadRecordsAndCountsThem) {
  DirectoryCache cache(kPrefix);
  EtcdKeyValue not_json = HostKv("a", 1, {});
  not_json.value = "{not json";
  EtcdKeyValue wrong_name = HostKv("a", 1, {});
  wrong_name.key = std::string(kPrefix) + "mallory";
  EtcdKeyValue bad_key = HostKv("a", 1, {});
  bad_key.key = std::string(kPrefix) + "../../etc";
  EtcdKeyValue no_incarnation = HostKv("a", 0, {});
  for (const EtcdKeyValue& kv :
       {not_json, wrong_name, bad_key, no_incarnation}) {
    EXPECT_FALSE(cache.Put(kv, absl::Now()).has_value()) << kv.key;
  }
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bad_records(), 4u);
  EXPECT_THAT(cache.last_bad_record(), HasSubstr("incarnation"));
}

TEST(DirectoryCacheTest, IgnoresFieldsFromNewerSwiftds) {
  DirectoryCache cache(kPrefix);
  EtcdKeyValue kv = HostKv("a", 1, {"kv"});
  kv.value.insert(1, "\"field_from_the_future\": 5, ");
  EXPECT_TRUE(cache.Put(kv, absl::Now()).has_value());
  EXPECT_NE(cache.Find("a"), nullptr);
}

}  // namespace
}  // namespace swift
