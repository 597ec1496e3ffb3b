// `swiftctl directory`: the directory's state, this host's registration and
// every host's record.
#include "tools/swiftctl/format_directory.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace swift::swiftctl {
namespace {

v1::ListDirectoryResponse TwoHosts() {
  v1::ListDirectoryResponse directory;
  directory.set_url("etcd://10.0.0.9:2379/swift");
  directory.set_transport("TLS");
  directory.set_host_name("host-a");
  directory.set_reachable(true);
  directory.set_revision(42);
  directory.set_registered(true);
  directory.set_lease_id(7587);
  directory.set_lease_ttl_ms(2000);
  directory.set_registrations(1);
  v1::DirectoryHostInfo* a = directory.add_hosts();
  a->set_host("host-a");
  a->set_peer_address("10.0.0.1:7471");
  a->set_incarnation(11);
  a->add_services("kv");
  a->add_devices("rxe0 fe80::1");
  a->set_updated_ago_ms(1500);
  v1::DirectoryHostInfo* b = directory.add_hosts();
  b->set_host("host-b");
  b->set_peer_address("10.0.0.2:7471");
  b->set_incarnation(12);
  b->set_updated_ago_ms(65000);
  return directory;
}

TEST(FormatDirectoryTest, ShowsStateRegistrationAndEveryHost) {
  const std::string text = FormatDirectory(TwoHosts(), 0);
  EXPECT_TRUE(absl::StrContains(
      text,
      "directory: etcd://10.0.0.9:2379/swift (TLS): reachable, revision 42"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, "this host: host-a, registered under lease 7587 (TTL 2s)"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "host-a (this host)")) << text;
  EXPECT_TRUE(absl::StrContains(text, "10.0.0.2:7471")) << text;
  EXPECT_TRUE(absl::StrContains(text, "rxe0 fe80::1")) << text;
  EXPECT_TRUE(absl::StrContains(text, "1m 5s ago")) << text;
  EXPECT_FALSE(absl::StrContains(text, "UNREACHABLE")) << text;
}

TEST(FormatDirectoryTest, SaysSinceWhenAndWhyTheDirectoryIsUnreachable) {
  v1::ListDirectoryResponse directory = TwoHosts();
  directory.set_reachable(false);
  directory.set_registered(false);
  directory.set_since_unix_ms(100000);
  directory.set_last_error(
      "UNAVAILABLE: etcd 10.0.0.9:2379: connection refused");
  const std::string text = FormatDirectory(directory, 112000);
  EXPECT_TRUE(absl::StrContains(text, "UNREACHABLE for 12s")) << text;
  EXPECT_TRUE(absl::StrContains(text, "connection refused")) << text;
  EXPECT_TRUE(absl::StrContains(text, "NOT registered")) << text;
  // The cached hosts are still listed: connects use them.
  EXPECT_TRUE(absl::StrContains(text, "host-b")) << text;
}

TEST(FormatDirectoryTest, SaysSoWhenNoHostIsRegistered) {
  v1::ListDirectoryResponse directory = TwoHosts();
  directory.clear_hosts();
  EXPECT_TRUE(absl::StrContains(FormatDirectory(directory, 0),
                                "No hosts in the directory."));
}

TEST(FormatDirectoryTest, ListsEachServiceWithTheHostsOfferingIt) {
  v1::ListDirectoryResponse directory = TwoHosts();
  directory.mutable_hosts(1)->add_services("kv");
  const std::string text = FormatDirectoryServices(directory);
  EXPECT_TRUE(
      absl::StrContains(text, "In the directory etcd://10.0.0.9:2379/swift:"))
      << text;
  EXPECT_TRUE(
      absl::StrContains(text, "kv       2      host-a (this host), host-b"))
      << text;
  directory.clear_hosts();
  EXPECT_TRUE(absl::StrContains(FormatDirectoryServices(directory),
                                "No host offers a service."));
}

}  // namespace
}  // namespace swift::swiftctl
