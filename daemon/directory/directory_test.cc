// Tests of Directory against Debian's real etcd: registration, watches,
// the service policy, hosts that stop, die or restart, and etcd itself
// going away and coming back.
#include "daemon/directory/directory.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/testing/eventually.h"
#include "daemon/directory/etcd_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/etcd_server.h"
#include "tests/test_pki.h"

namespace swift {
namespace {

using ::swift::testing::EtcdServer;
using ::swift::testing::Eventually;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(15);

// One simulated swiftd: a Directory with a record it can change, and the
// changes it was told of.
class Host {
 public:
  // `address`: its peer address; empty: "<name>.test:7471".
  Host(const std::string& url, const std::string& name, uint64_t incarnation,
       std::vector<std::string> services, const std::string& address = "")
      : name_(name),
        address_(address.empty() ? absl::StrCat(name, ".test:7471") : address),
        incarnation_(incarnation),
        services_(std::move(services)) {
    DirectoryOptions options;
    options.url = *ParseDirectoryUrl(url);
    options.host_name = name;
    options.ttl = absl::Seconds(1);
    options.call_timeout = absl::Milliseconds(500);
    options.max_backoff = absl::Milliseconds(400);
    directory_ = std::make_unique<Directory>(
        options, [this] { return Record(); },
        [this](const DirectoryChange& change) {
          absl::MutexLock lock(&mu_);
          changes_.push_back(change);
        });
    directory_->Start();
  }

  directory::v1::HostRecord Record() {
    absl::MutexLock lock(&mu_);
    directory::v1::HostRecord record;
    record.set_host(name_);
    record.set_peer_address(address_);
    record.set_incarnation(incarnation_);
    for (const std::string& service : services_) record.add_services(service);
    return record;
  }

  void SetServices(std::vector<std::string> services) {
    {
      absl::MutexLock lock(&mu_);
      services_ = std::move(services);
    }
    directory_->Republish();
  }

  bool Knows(const std::string& host) {
    return directory_->ResolveHost(host).ok();
  }

  // Whether `kind` was told for `host`. Told after the cache changed
  // (Directory::Notify): a moment after Knows() says so, hence Eventually.
  bool Told(DirectoryChange::Kind kind, const std::string& host) {
    absl::MutexLock lock(&mu_);
    for (const DirectoryChange& change : changes_) {
      if (change.kind == kind && change.host == host) return true;
    }
    return false;
  }

  Directory& directory() { return *directory_; }

 private:
  absl::Mutex mu_;
  const std::string name_;
  const std::string address_;
  const uint64_t incarnation_;
  std::vector<std::string> services_ ABSL_GUARDED_BY(mu_);
  std::vector<DirectoryChange> changes_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Directory> directory_;
};

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EtcdServer>> etcd =
        EtcdServer::Create(::testing::TempDir());
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = std::move(*etcd);
    url_ =
        etcd_->DirectoryUrl(absl::StrCat("/t", absl::ToUnixNanos(absl::Now())));
  }

  std::unique_ptr<EtcdServer> etcd_;
  std::string url_;
};

TEST_F(DirectoryTest, HostsFindEachOtherAndServicesByPolicy) {
  Host a(url_, "a", 11, {});
  Host b(url_, "b", 22, {"kv"});
  Host c(url_, "c", 33, {"kv"});
  ASSERT_TRUE(Eventually([&] { return a.Knows("b") && a.Knows("c"); }, kWait));
  EXPECT_EQ(*a.directory().ResolveHost("b"), "b.test:7471");
  EXPECT_TRUE(Eventually(
      [&] { return a.Told(DirectoryChange::Kind::kAdded, "b"); }, kWait));
  // Round robin over the hosts offering it, when this host does not.
  std::vector<std::string> picks;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::string> pick = a.directory().PickHostForService("kv");
    ASSERT_TRUE(pick.ok()) << pick.status();
    picks.push_back(*pick);
  }
  EXPECT_NE(picks[0], picks[1]);
  EXPECT_EQ(picks[0], picks[2]);
  EXPECT_EQ(picks[1], picks[3]);
  EXPECT_TRUE(picks[0] == "b" || picks[0] == "c") << picks[0];
  EXPECT_TRUE(picks[1] == "b" || picks[1] == "c") << picks[1];
  // This host first once it offers the service too.
  a.SetServices({"kv"});
  ASSERT_TRUE(Eventually(
      [&] {
        absl::StatusOr<std::string> pick =
            a.directory().PickHostForService("kv");
        return pick.ok() && *pick == "a";
      },
      kWait));
  // A service nobody offers, and a host nobody registered.
  absl::StatusOr<std::string> none = a.directory().PickHostForService("nope");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr(url_));
  EXPECT_EQ(a.directory().ResolveHost("zz").status().code(),
            absl::StatusCode::kNotFound);
  const Directory::State state = a.directory().state();
  EXPECT_TRUE(state.reachable);
  EXPECT_TRUE(state.registered);
  EXPECT_EQ(state.hosts, 3u);
}

TEST_F(DirectoryTest, AStoppedHostLeavesAtOnceWithAReason) {
  Host a(url_, "a", 11, {});
  auto b =
      std::make_unique<Host>(url_, "b", 22, std::vector<std::string>{"kv"});
  ASSERT_TRUE(Eventually([&] { return a.Knows("b"); }, kWait));
  b.reset();  // Stop() revokes its lease.
  ASSERT_TRUE(Eventually([&] { return !a.Knows("b"); }, kWait));
  EXPECT_TRUE(Eventually(
      [&] { return a.Told(DirectoryChange::Kind::kRemoved, "b"); }, kWait));
  absl::StatusOr<std::string> gone = a.directory().ResolveHost("b");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(), HasSubstr("left the directory"));
  absl::StatusOr<std::string> service = a.directory().PickHostForService("kv");
  EXPECT_THAT(service.status().message(), HasSubstr("b, which did, left"));
}

TEST_F(DirectoryTest, ADeadHostLeavesWhenItsLeaseExpires) {
  Host a(url_, "a", 11, {});
  // A "host" that registers and then dies: its lease is never renewed.
  EtcdClient client({etcd_->endpoint()});
  const absl::Time deadline = absl::Now() + kWait;
  absl::StatusOr<EtcdClient::Lease> lease =
      client.GrantLease(absl::Seconds(1), deadline);
  ASSERT_TRUE(lease.ok()) << lease.status();
  directory::v1::HostRecord record;
  record.set_host("dead");
  record.set_peer_address("dead.test:7471");
  record.set_incarnation(5);
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(record, &json);
  const std::string key = a.directory().options().url.HostsPrefix() + "dead";
  ASSERT_TRUE(client.Put(key, json, lease->id, deadline).ok());
  ASSERT_TRUE(Eventually([&] { return a.Knows("dead"); }, kWait));
  ASSERT_TRUE(Eventually([&] { return !a.Knows("dead"); }, kWait));
  EXPECT_TRUE(Eventually(
      [&] { return a.Told(DirectoryChange::Kind::kRemoved, "dead"); }, kWait));
}

TEST_F(DirectoryTest, ANewIncarnationIsToldAsARestart) {
  Host a(url_, "a", 11, {});
  auto b = std::make_unique<Host>(url_, "b", 22, std::vector<std::string>{});
  ASSERT_TRUE(Eventually([&] { return a.Knows("b"); }, kWait));
  // b restarts: a new swiftd writes a new incarnation before the old
  // record's lease ran out (here: the old one is replaced in place).
  Host b2(url_, "b", 23, {});
  ASSERT_TRUE(Eventually(
      [&] { return a.Told(DirectoryChange::Kind::kRestarted, "b"); }, kWait));
  b.release();  // Its threads would revoke the new record's key; leak them.
}

TEST_F(DirectoryTest, CachedHostsServeWhileEtcdIsDownAndAllRecovers) {
  Host a(url_, "a", 11, {});
  Host b(url_, "b", 22, {"kv"});
  ASSERT_TRUE(Eventually([&] { return a.Knows("b"); }, kWait));
  etcd_->Stop();
  ASSERT_TRUE(
      Eventually([&] { return !a.directory().state().reachable; }, kWait));
  // What was cached keeps serving ...
  EXPECT_EQ(*a.directory().ResolveHost("b"), "b.test:7471");
  EXPECT_EQ(*a.directory().PickHostForService("kv"), "b");
  // ... and what was not fails clearly, naming the directory.
  absl::StatusOr<std::string> unknown = a.directory().ResolveHost("c");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(
      unknown.status().message(),
      HasSubstr(absl::StrCat("the directory ", url_, " is unreachable")));
  EXPECT_EQ(a.directory().PickHostForService("log").status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(etcd_->Start().ok()) << etcd_->LogTail();
  ASSERT_TRUE(
      Eventually([&] { return a.directory().state().reachable; }, kWait));
  // A host that registers after the outage is seen: the watch is back.
  Host c(url_, "c", 33, {"log"});
  ASSERT_TRUE(Eventually([&] { return a.Knows("c"); }, kWait));
  EXPECT_EQ(*a.directory().PickHostForService("log"), "c");
  EXPECT_TRUE(b.directory().state().registered);
}

// Two hosts given one --host_name: the second is refused, saying who holds
// the name, without touching the first's record; it registers once the
// first leaves.
TEST_F(DirectoryTest, ANameHeldByAnotherHostIsRefusedUntilItLeaves) {
  auto first = std::make_unique<Host>(url_, "a", 1, std::vector<std::string>{});
  ASSERT_TRUE(
      Eventually([&] { return first->directory().state().registered; }, kWait));
  Host second(url_, "a", 2, {}, "elsewhere.test:7471");
  ASSERT_TRUE(Eventually(
      [&] {
        return second.directory().state().last_error.find(
                   "held in the directory by the swiftd at a.test:7471") !=
               std::string::npos;
      },
      kWait))
      << second.directory().state().last_error;
  EXPECT_FALSE(second.directory().state().registered);
  // etcd itself answers it.
  EXPECT_TRUE(
      Eventually([&] { return second.directory().state().reachable; }, kWait));
  EXPECT_FALSE(first->Told(DirectoryChange::Kind::kRestarted, "a"));
  EXPECT_EQ(first->directory().state().registrations, 1u);

  first.reset();  // Revokes its lease: the name is free.
  EXPECT_TRUE(
      Eventually([&] { return second.directory().state().registered; }, kWait));
}

// TLS to etcd (--directory_ca_file and the client certificate): a host
// with the right CA and a client certificate registers; without the
// certificate, or trusting another CA, it cannot reach etcd and says so.
class DirectoryTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TestPki> pki =
        testing::MakeTestPki(::testing::TempDir());
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *pki;
    absl::StatusOr<std::unique_ptr<EtcdServer>> etcd =
        EtcdServer::CreateWithTls(::testing::TempDir(), pki_);
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
  }

  std::unique_ptr<Directory> Start(const std::string& ca,
                                   const std::string& cert,
                                   const std::string& key) {
    DirectoryOptions options;
    options.url = *ParseDirectoryUrl(etcd_->DirectoryUrl());
    absl::StatusOr<EtcdTls> tls = ReadEtcdTls(ca, cert, key);
    EXPECT_TRUE(tls.ok()) << tls.status();
    options.tls = *tls;
    options.host_name = "tls-host";
    options.ttl = absl::Seconds(2);
    options.call_timeout = absl::Milliseconds(500);
    auto directory = std::make_unique<Directory>(
        options,
        [] {
          directory::v1::HostRecord record;
          record.set_host("tls-host");
          record.set_peer_address("tls-host.test:7471");
          record.set_incarnation(1);
          return record;
        },
        [](const DirectoryChange&) {});
    directory->Start();
    return directory;
  }

  testing::TestPki pki_;
  std::unique_ptr<EtcdServer> etcd_;
};

TEST_F(DirectoryTlsTest, WithTheCaAndAClientCertificateItRegisters) {
  auto directory = Start(pki_.ca_cert, pki_.client_cert, pki_.client_key);
  EXPECT_TRUE(Eventually(
      [&] {
        const Directory::State state = directory->state();
        return state.registered && state.reachable && state.hosts == 1;
      },
      kWait))
      << directory->state().last_error;
}

TEST_F(DirectoryTlsTest, WithoutItsCertificateOrWithAnotherCaItCannot) {
  auto anonymous = Start(pki_.ca_cert, "", "");
  auto distrustful =
      Start(pki_.other_ca_cert, pki_.client_cert, pki_.client_key);
  absl::SleepFor(absl::Seconds(2));
  for (Directory* directory : {anonymous.get(), distrustful.get()}) {
    const Directory::State state = directory->state();
    EXPECT_FALSE(state.registered);
    EXPECT_FALSE(state.reachable);
    EXPECT_FALSE(state.last_error.empty());
  }
}

}  // namespace
}  // namespace swift
