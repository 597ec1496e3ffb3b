// The cluster directory end to end on one machine, without RDMA: a real
// etcd (tests/etcd_server.h) and two real swiftds, host-a and host-b, on
// loopback, with services of fake endpoints (tests/raw_fast_path.h) so
// that swiftd brokers without a device. What a user sees: Connect by
// service alone, `swiftctl directory` and `swiftctl peers`, a stopped
// swiftd leaving at once, and an etcd outage. (The same across two real
// kernels with RDMA data: directory_guests_rdma_test.)
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/seqpacket_socket.h"
#include "common/testing/eventually.h"
#include "daemon/metrics/testing/http_get.h"
#include "daemon/swiftd_server.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"
#include "tests/etcd_server.h"
#include "tests/free_port.h"
#include "tests/raw_fast_path.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::CommandResult;
using ::swift::testing::EtcdServer;
using ::swift::testing::Eventually;
using ::swift::testing::FreeLoopbackPort;
using ::swift::testing::OpenRaw;
using ::swift::testing::RawAcceptor;
using ::swift::testing::RawCall;
using ::swift::testing::RunCommand;
using ::swift::testing::TempDir;

// Long enough that a host leaving quicker than this was revoked, not
// expired.
constexpr absl::Duration kTtl = absl::Seconds(20);

// A service of fake endpoints on one swiftd, answering every accept.
struct RawService {
  RawService(const SwiftdServer& swiftd, const std::string& name) {
    auto opened = OpenRaw(swiftd.fast_path_socket_path(), "app-" + name,
                          v1::FastHello::SERVICE);
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (!opened.ok()) return;
    channel.emplace(*std::move(opened));
    listened = testing::ListenRaw(*channel, name, 8);
    EXPECT_TRUE(listened.ok()) << listened;
    acceptor = std::make_unique<RawAcceptor>(&*channel);
  }
  std::optional<SeqpacketSocket> channel;
  absl::Status listened;
  std::unique_ptr<RawAcceptor> acceptor;
};

class DirectorySwiftdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EtcdServer>> etcd =
        EtcdServer::Create(dir_.path());
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
    a_ = Start("host-a");
    b_ = Start("host-b");
    ASSERT_TRUE(a_ && b_);
    ASSERT_TRUE(Eventually([&] { return Lists(*a_, "host-b", ""); }))
        << "host-b never appeared in host-a's directory";
  }

  std::unique_ptr<SwiftdServer> Start(const std::string& host) {
    SwiftdOptions options;
    options.socket_path = absl::StrCat(dir_.path(), "/", host, ".sock");
    options.peer_address = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
    options.peer_secret = "directory host test secret, 32 bytes and more";
    options.peer_allow = {"127.0.0.1"};
    options.directory = etcd_->DirectoryUrl();
    options.host_name = host;
    options.directory_ttl = kTtl;
    // host-a's metrics, read by a test.
    if (host == "host-a") {
      options.metrics_address = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
    }
    peer_address_[host] = options.peer_address;
    absl::StatusOr<std::unique_ptr<SwiftdServer>> swiftd =
        SwiftdServer::Start(options);
    EXPECT_TRUE(swiftd.ok()) << host << ": " << swiftd.status();
    return swiftd.ok() ? *std::move(swiftd) : nullptr;
  }

  // `swiftd`'s directory lists `host` (offering `service`, unless empty).
  static bool Lists(const SwiftdServer& swiftd, const std::string& host,
                    const std::string& service) {
    for (const DirectoryHost& listed : swiftd.directory()->List()) {
      if (listed.host != host) continue;
      if (service.empty()) return true;
      for (const std::string& offered : listed.services) {
        if (offered == service) return true;
      }
    }
    return false;
  }

  // A connect through `swiftd`'s fast path to `service` on `host` (empty:
  // swiftd picks).
  static absl::StatusOr<v1::FastResponse> Connect(const SwiftdServer& swiftd,
                                                  const std::string& host,
                                                  const std::string& service) {
    auto calls =
        OpenRaw(swiftd.fast_path_socket_path(), "client", v1::FastHello::CALLS);
    if (!calls.ok()) return calls.status();
    v1::FastRequest request =
        testing::RawConnectRequest(service, absl::Seconds(5));
    request.mutable_connect()->set_host(host);
    return RawCall(*calls, request);
  }

  CommandResult Swiftctl(const SwiftdServer& swiftd,
                         const std::string& command) {
    return RunCommand(
        absl::StrCat(testing::RunfilePath("tools/swiftctl/swiftctl"),
                     " --socket=", swiftd.socket_path(), " ", command));
  }

  TempDir dir_;
  std::unique_ptr<EtcdServer> etcd_;
  std::unique_ptr<SwiftdServer> a_;
  std::unique_ptr<SwiftdServer> b_;
  std::map<std::string, std::string> peer_address_;
};

TEST_F(DirectorySwiftdTest, ConnectByServiceAlonePicksTheHostOfferingIt) {
  RawService kv(*b_, "kv");
  ASSERT_TRUE(kv.listened.ok());
  ASSERT_TRUE(Eventually([&] { return Lists(*a_, "host-b", "kv"); }))
      << "host-b's new service never reached host-a";

  absl::StatusOr<v1::FastResponse> picked = Connect(*a_, "", "kv");
  ASSERT_TRUE(picked.ok()) << picked.status();
  EXPECT_EQ(picked->connect().host(), "host-b");
  // By host name too, resolved through the directory.
  absl::StatusOr<v1::FastResponse> named = Connect(*a_, "host-b", "kv");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->connect().host(), "host-b");

  // swiftctl shows both hosts, the service, and where the peer came from.
  CommandResult directory = Swiftctl(*a_, "directory");
  EXPECT_EQ(directory.exit_code, 0) << directory.err;
  EXPECT_TRUE(absl::StrContains(directory.out, "(plain gRPC): reachable"))
      << directory.out;
  EXPECT_TRUE(absl::StrContains(directory.out, "host-a (this host)"))
      << directory.out;
  EXPECT_TRUE(absl::StrContains(directory.out, peer_address_["host-b"]))
      << directory.out;
  CommandResult peers = Swiftctl(*a_, "peers");
  EXPECT_EQ(peers.exit_code, 0) << peers.err;
  EXPECT_TRUE(absl::StrContains(peers.out, "directory")) << peers.out;
  // Local services, then where the directory says each one is offered.
  CommandResult services = Swiftctl(*a_, "services");
  EXPECT_EQ(services.exit_code, 0) << services.err;
  EXPECT_TRUE(absl::StrContains(services.out, "No services listening."))
      << services.out;
  EXPECT_TRUE(absl::StrContains(services.out, "In the directory etcd://"))
      << services.out;
  EXPECT_TRUE(absl::StrContains(services.out, "host-b")) << services.out;
  // And in the metrics.
  absl::StatusOr<testing::HttpResponse> metrics =
      testing::HttpGet(a_->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  for (const char* sample :
       {"swift_directory_reachable 1", "swift_directory_registered 1",
        "swift_directory_hosts 2", "swift_directory_registrations_total 1"}) {
    EXPECT_TRUE(absl::StrContains(metrics->body, sample))
        << sample << " missing in " << metrics->body;
  }
  CommandResult json = Swiftctl(*a_, "--json directory");
  EXPECT_TRUE(absl::StrContains(json.out, "\"services\":[\"kv\"]")) << json.out;
}

TEST_F(DirectorySwiftdTest, AServiceOfferedHereIsPickedHereFirst) {
  RawService remote(*b_, "kv");
  RawService local(*a_, "kv");
  ASSERT_TRUE(Eventually([&] {
    return Lists(*a_, "host-a", "kv") && Lists(*a_, "host-b", "kv");
  }));
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::FastResponse> picked = Connect(*a_, "", "kv");
    ASSERT_TRUE(picked.ok()) << picked.status();
    EXPECT_EQ(picked->connect().host(), "host-a");
  }
}

TEST_F(DirectorySwiftdTest, AStoppedSwiftdLeavesAtOnceAndConnectsSayWhy) {
  // kv is still offered when host-b's swiftd stops.
  RawService kv(*b_, "kv");
  ASSERT_TRUE(Eventually([&] { return Lists(*a_, "host-b", "kv"); }));
  b_.reset();  // Revokes its lease on the way out.
  ASSERT_TRUE(Eventually([&] { return !Lists(*a_, "host-b", ""); }, kTtl / 2))
      << "host-b stayed listed: its lease was not revoked";
  absl::StatusOr<v1::FastResponse> by_host = Connect(*a_, "host-b", "kv");
  ASSERT_FALSE(by_host.ok());
  EXPECT_EQ(by_host.status().code(), absl::StatusCode::kNotFound)
      << by_host.status();
  EXPECT_TRUE(
      absl::StrContains(by_host.status().message(), "left the directory"))
      << by_host.status();
  absl::StatusOr<v1::FastResponse> by_service = Connect(*a_, "", "kv");
  ASSERT_FALSE(by_service.ok());
  EXPECT_EQ(by_service.status().code(), absl::StatusCode::kNotFound)
      << by_service.status();
  EXPECT_TRUE(absl::StrContains(by_service.status().message(),
                                "host-b, which did, left"))
      << by_service.status();
}

TEST_F(DirectorySwiftdTest, WhileEtcdIsDownTheCacheServesAndRecovers) {
  RawService kv(*b_, "kv");
  ASSERT_TRUE(Eventually([&] { return Lists(*a_, "host-b", "kv"); }));
  etcd_->Stop();
  ASSERT_TRUE(Eventually([&] { return !a_->directory()->state().reachable; }));

  // Cached: served.
  absl::StatusOr<v1::FastResponse> cached = Connect(*a_, "", "kv");
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_EQ(cached->connect().host(), "host-b");
  // Not cached: UNAVAILABLE, naming the directory.
  absl::StatusOr<v1::FastResponse> unknown = Connect(*a_, "", "nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnavailable)
      << unknown.status();
  EXPECT_TRUE(absl::StrContains(unknown.status().message(), etcd_->endpoint()))
      << unknown.status();
  CommandResult shown = Swiftctl(*a_, "directory");
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_TRUE(absl::StrContains(shown.out, "UNREACHABLE")) << shown.out;
  EXPECT_TRUE(absl::StrContains(shown.out, "host-b")) << shown.out;

  ASSERT_TRUE(etcd_->Start().ok()) << etcd_->LogTail();
  ASSERT_TRUE(Eventually(
      [&] {
        const Directory::State state = a_->directory()->state();
        return state.reachable && state.registered;
      },
      absl::Seconds(30)));
  unknown = Connect(*a_, "", "nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound)
      << unknown.status();
  EXPECT_TRUE(Lists(*a_, "host-b", "kv"));
}

TEST(DirectorylessSwiftdTest, SwiftctlDirectorySaysThereIsNone) {
  testing::TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  CommandResult result = RunCommand(
      absl::StrCat(testing::RunfilePath("tools/swiftctl/swiftctl"),
                   " --socket=", swiftd.socket_path(), " directory"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.err, "no --directory")) << result.err;
}

}  // namespace
}  // namespace swift
