// Host tests for the Broker end to end without RDMA: a local connect goes
// through admission and the PeerDirectory to a TestPeer on localhost (over
// the lean link or gRPC), reaches a fake application, and its close is
// told to the peer in the background.
#include "daemon/broker/broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "common/testing/eventually.h"
#include "common/verbs/endpoint.h"
#include "daemon/broker/fake_application.h"
#include "daemon/broker/test_peer.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

v1::ConnectCall Call(const std::string& host) {
  v1::ConnectCall call;
  call.set_host(host);
  call.set_service("echo");
  call.set_client_endpoint(verbs::EncodeEndpoint(verbs::QpEndpoint()));
  call.set_timeout_ms(5000);
  return call;
}

FastPathCaller Caller() {
  FastPathCaller caller;
  caller.channel_id = 3;
  caller.pid = 99;
  caller.client_name = "test";
  return caller;
}

// A caller of tenant `uid` on its own fast path connection.
FastPathCaller Tenant(uid_t uid) {
  FastPathCaller caller = Caller();
  caller.channel_id = 100 + uid;
  caller.uid = uid;
  return caller;
}

class BrokerTest : public ::testing::TestWithParam<bool> {
 protected:
  TestPeer remote_{21, /*link=*/GetParam()};
  PeerDirectory directory_{1, "127.0.0.1:1", {{"b", remote_.address()}}};
  AdmissionController admission_{AdmissionController::Limits()};
};

TEST_P(BrokerTest, ConnectsAndClosesThroughThePeer) {
  FakeApplication app(&remote_.registry(), {});
  Broker broker(&directory_, &admission_);
  absl::StatusOr<v1::ConnectResult> connected =
      broker.Connect(Caller(), Call("b"));
  ASSERT_TRUE(connected.ok()) << connected.status();
  EXPECT_EQ(*verbs::DecodeEndpoint(connected->server_endpoint()),
            FakeApplication::Endpoint(0));
  EXPECT_EQ(connected->app_accept_us(), 7u);
  ASSERT_EQ(broker.Connections().size(), 1u);
  EXPECT_EQ(broker.Connections()[0].client_pid, 99);

  ASSERT_TRUE(broker.Close(Caller(), connected->connection_id()).ok());
  EXPECT_TRUE(broker.Connections().empty());
  EXPECT_TRUE(app.WaitForCloses(1));  // Told in the background.
  EXPECT_TRUE(absl::IsNotFound(
      broker.Close(Caller(), connected->connection_id())));
  EXPECT_EQ(broker.GetCounters().connected, 1u);
  EXPECT_EQ(broker.GetCounters().closed, 1u);
}

TEST_P(BrokerTest, CloseAllOfEndsAChannelsConnections) {
  FakeApplication app(&remote_.registry(), {});
  Broker broker(&directory_, &admission_);
  ASSERT_TRUE(broker.Connect(Caller(), Call("b")).ok());
  ASSERT_TRUE(broker.Connect(Caller(), Call("b")).ok());
  broker.CloseAllOf(Caller().channel_id);
  EXPECT_TRUE(broker.Connections().empty());
  EXPECT_TRUE(app.WaitForCloses(2));
}

// issue 10 (faults): a close the peer cannot hear (its host unreachable,
// the link down) was logged and dropped, and the peer's service held the
// connection for ever. It is now kept and told once the peer answers: at
// the next connect to it, or by the closer on its own (every 10 s).
class UnheardCloseTest : public BrokerTest {
 protected:
  UnheardCloseTest() {
    Broker::Options options;
    options.default_timeout = absl::Seconds(2);
    broker_ = std::make_unique<Broker>(&directory_, &admission_, options);
  }

  // A connection through the broker, closed while the peer is down: the
  // close is kept, unheard.
  void CloseWhileThePeerIsDown() {
    absl::StatusOr<v1::ConnectResult> connected =
        broker_->Connect(Caller(), Call("b"));
    ASSERT_TRUE(connected.ok()) << connected.status();
    remote_.Stop();
    ASSERT_TRUE(broker_->Close(Caller(), connected->connection_id()).ok());
    ASSERT_TRUE(testing::Eventually([&] {
      return broker_->undelivered_closes() == 1;
    })) << "the close was not kept";
    EXPECT_TRUE(app_.closed_connections().empty());
  }

  FakeApplication app_{&remote_.registry(), {}};
  std::unique_ptr<Broker> broker_;
};

TEST_P(UnheardCloseTest, IsToldAtTheNextConnectToThePeer) {
  CloseWhileThePeerIsDown();
  remote_.Resume();
  absl::StatusOr<v1::ConnectResult> again;
  ASSERT_TRUE(testing::Eventually([&] {
    again = broker_->Connect(Caller(), Call("b"));
    return again.ok();
  })) << again.status();
  EXPECT_TRUE(app_.WaitForCloses(1));
  EXPECT_TRUE(
      testing::Eventually([&] { return broker_->undelivered_closes() == 0; }));
}

TEST_P(UnheardCloseTest, IsToldAgainOnItsOwn) {
  CloseWhileThePeerIsDown();
  remote_.Resume();
  EXPECT_TRUE(testing::Eventually(
      [&] { return app_.closed_connections().size() == 1; },
      absl::Seconds(30)));
  EXPECT_EQ(broker_->undelivered_closes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(LinkOrGrpc, UnheardCloseTest, ::testing::Bool());

// A TCP port that accepts connections (the kernel's backlog) and never
// says a word: a peer whose host hangs.
class SilentListener {
 public:
  explicit SilentListener(const std::string& address) {
    const uint16_t port = static_cast<uint16_t>(
        std::stoi(address.substr(address.rfind(':') + 1)));
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listening_ =
        bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        listen(fd_, 16) == 0;
  }
  ~SilentListener() { close(fd_); }
  bool listening() const { return listening_; }

 private:
  int fd_ = -1;
  bool listening_ = false;
};

// Found by the two-guest directory test: a swiftd whose peer's host died
// took 10 s (its connect timeout) per batch of closes to stop, one batch
// after another. A stopping closer now waits for the batch in flight and
// gives what is queued one short attempt (kShortAttempt).
TEST(StoppingBrokerTest, ASilentPeerHoldsTheStopForOneTimeoutNotOnePerClose) {
  TestPeer remote(21, /*link=*/false);
  PeerDirectory directory(1, "127.0.0.1:1", {{"b", remote.address()}});
  AdmissionController admission{AdmissionController::Limits()};
  FakeApplication::Options three;
  three.endpoints = 3;
  FakeApplication app(&remote.registry(), three);
  constexpr absl::Duration kTimeout = absl::Seconds(5);
  Broker::Options options;
  options.default_timeout = kTimeout;
  auto broker = std::make_unique<Broker>(&directory, &admission, options);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::ConnectResult> connected =
        broker->Connect(Caller(), Call("b"));
    ASSERT_TRUE(connected.ok()) << connected.status();
    ids.push_back(connected->connection_id());
  }
  remote.Stop();
  SilentListener silent(remote.address());
  ASSERT_TRUE(silent.listening());
  // One close in flight to the silent peer, two queued behind it.
  ASSERT_TRUE(broker->Close(Caller(), ids[0]).ok());
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(broker->Close(Caller(), ids[1]).ok());
  ASSERT_TRUE(broker->Close(Caller(), ids[2]).ok());
  const absl::Time stop = absl::Now();
  broker.reset();
  const absl::Duration took = absl::Now() - stop;
  // Before: the batch in flight plus a whole timeout for the queued one.
  EXPECT_LT(took, kTimeout + absl::Seconds(3)) << took;
}

TEST_P(BrokerTest, RefusalsAreCountedByReason) {
  Broker broker(&directory_, &admission_);
  EXPECT_TRUE(
      absl::IsNotFound(broker.Connect(Caller(), Call("b")).status()));
  v1::ConnectCall bad = Call("b");
  bad.set_client_endpoint("x");
  EXPECT_TRUE(absl::IsInvalidArgument(broker.Connect(Caller(), bad).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(broker.Connect(Caller(), Call("nohost")).status()));
  Broker::Counters counters = broker.GetCounters();
  EXPECT_EQ(counters.failed["NOT_FOUND"], 1u);
  EXPECT_EQ(counters.failed["INVALID_ARGUMENT"], 2u);
}

// The peer restarted since its Hello was cached: the Broker learns it from
// the refusal (kAborted), forgets the metadata and retries once.
TEST_P(BrokerTest, RetriesOnceAfterThePeerRestarted) {
  Broker broker(&directory_, &admission_);
  ASSERT_TRUE(directory_.Get("b", absl::Now() + absl::Seconds(5)).ok());
  remote_.Restart(22);
  FakeApplication app(&remote_.registry(), {});
  absl::StatusOr<v1::ConnectResult> connected =
      broker.Connect(Caller(), Call("b"));
  if (GetParam()) {
    // The cached link port died with the old swiftd: kUnavailable
    // invalidates, and the next connect says Hello again.
    if (!connected.ok()) {
      EXPECT_TRUE(absl::IsUnavailable(connected.status()))
          << connected.status();
      connected = broker.Connect(Caller(), Call("b"));
    }
  }
  ASSERT_TRUE(connected.ok()) << connected.status();
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> peer =
      directory_.Get("b", absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ((*peer)->hello.incarnation(), 22u);
}

// Issue 10, finding 11: the service went away during the handshake, which
// the peer ANSWERS with kUnavailable. The Broker took it for an
// unreachable peer and forgot its Hello: `swiftctl peers` showed no
// services for minutes while connects kept succeeding. The peer is alive:
// its metadata stays, and no second Hello is sent.
TEST_P(BrokerTest, AnErrorThePeerAnsweredKeepsItsMetadata) {
  Broker broker(&directory_, &admission_);
  FakeApplication::Options silent;
  silent.answer = false;
  auto app = std::make_unique<FakeApplication>(&remote_.registry(), silent);
  absl::StatusOr<v1::ConnectResult> connected;
  std::thread connecting(
      [&] { connected = broker.Connect(Caller(), Call("b")); });
  ASSERT_TRUE(testing::Eventually([&] { return app->accepts() == 1; }));
  app->Leave();  // Mid-handshake.
  connecting.join();
  EXPECT_TRUE(absl::IsUnavailable(connected.status())) << connected.status();
  EXPECT_TRUE(absl::StrContains(connected.status().message(),
                                "went away during the handshake"))
      << connected.status();

  auto listed = [&] {
    for (const PeerDirectory::PeerView& view : directory_.List()) {
      if (view.address == remote_.address()) {
        return view;
      }
    }
    return PeerDirectory::PeerView();
  };
  EXPECT_EQ(listed().services, std::vector<std::string>{"echo"});
  EXPECT_NE(listed().incarnation, 0u);
  EXPECT_EQ(listed().cache_misses, 1u);  // One Hello.
  FakeApplication again(&remote_.registry(), {});
  absl::StatusOr<v1::ConnectResult> next = broker.Connect(Caller(), Call("b"));
  EXPECT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(listed().cache_misses, 1u);  // Still one: no extra Hello.
}

// The transport failing (the peer is down) still forgets the peer, so
// that it is said Hello to again when it is back.
TEST_P(BrokerTest, AnUnreachablePeerIsForgotten) {
  Broker broker(&directory_, &admission_);
  ASSERT_TRUE(directory_.Get("b", absl::Now() + absl::Seconds(5)).ok());
  remote_.Stop();
  absl::Status down = broker.Connect(Caller(), Call("b")).status();
  EXPECT_TRUE(absl::IsUnavailable(down)) << down;
  for (const PeerDirectory::PeerView& view : directory_.List()) {
    if (view.address == remote_.address()) {
      EXPECT_EQ(view.incarnation, 0u);
      EXPECT_TRUE(view.services.empty());
    }
  }
}

// ---- Tenants (issue 10, findings 5 and 9) ---------------------------------

// Finding 5: Close took any connection id (they are sequential), and one
// tenant closed root's connection.
TEST_P(BrokerTest, AnotherTenantCannotCloseAConnection) {
  FakeApplication app(&remote_.registry(), {});
  Broker broker(&directory_, &admission_);
  absl::StatusOr<v1::ConnectResult> roots = broker.Connect(Tenant(0), Call("b"));
  ASSERT_TRUE(roots.ok()) << roots.status();
  absl::StatusOr<v1::ConnectResult> alices =
      broker.Connect(Tenant(1000), Call("b"));
  ASSERT_TRUE(alices.ok()) << alices.status();

  absl::Status stolen = broker.Close(Tenant(1001), roots->connection_id());
  EXPECT_TRUE(absl::IsPermissionDenied(stolen)) << stolen;
  EXPECT_TRUE(absl::IsPermissionDenied(
      broker.Close(Tenant(1001), alices->connection_id())));
  EXPECT_TRUE(absl::IsPermissionDenied(
      broker.Close(Tenant(1000), roots->connection_id())));
  ASSERT_EQ(broker.Connections().size(), 2u);
  EXPECT_EQ(broker.Connections()[1].uid, 1000u);

  // The owner may, and root may close anyone's.
  EXPECT_TRUE(broker.Close(Tenant(0), alices->connection_id()).ok());
  EXPECT_TRUE(broker.Close(Tenant(0), roots->connection_id()).ok());
  EXPECT_TRUE(app.WaitForCloses(2));
  EXPECT_TRUE(broker.quotas().List().empty());
}

// Finding 9: one tenant made 5,000 connections.
TEST_P(BrokerTest, ConnectionsPerTenantAreBounded) {
  FakeApplication app(&remote_.registry(), {});
  BrokerQuotas::Limits limits;
  limits.connections = 1;
  BrokerQuotas quotas(limits);
  Broker::Options options;
  options.quotas = &quotas;
  Broker broker(&directory_, &admission_, options);
  absl::StatusOr<v1::ConnectResult> first =
      broker.Connect(Tenant(1000), Call("b"));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::Status second = broker.Connect(Tenant(1000), Call("b")).status();
  EXPECT_TRUE(absl::IsResourceExhausted(second)) << second;
  EXPECT_TRUE(
      absl::StrContains(second.message(), "--max_connections_per_tenant"))
      << second;
  EXPECT_EQ(quotas.Of(1000).connections, 1);
  // Closing gives the room back.
  ASSERT_TRUE(broker.Close(Tenant(1000), first->connection_id()).ok());
  EXPECT_TRUE(broker.Connect(Tenant(1000), Call("b")).ok());
  // A failed connect holds nothing.
  EXPECT_FALSE(broker.Connect(Tenant(1001), Call("nohost")).ok());
  EXPECT_EQ(quotas.Of(1001).connections, 0);
}

// Finding 5: timeout_ms was unbounded, so a connect could hold its
// handshake slot as long as its caller liked.
TEST_P(BrokerTest, TimeoutIsClamped) {
  FakeApplication::Options silent;
  silent.answer = false;
  FakeApplication app(&remote_.registry(), silent);
  Broker::Options options;
  options.max_timeout = absl::Milliseconds(300);
  Broker broker(&directory_, &admission_, options);
  v1::ConnectCall call = Call("b");
  call.set_timeout_ms(60000);
  const absl::Time start = absl::Now();
  absl::Status status = broker.Connect(Tenant(1000), call).status();
  // The peer's own accept timeout (2 s) would end it later.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500)) << status;
  EXPECT_FALSE(status.ok());
}

// Finding 5: swiftd dialled any "ip:port" a client named (54 peer entries,
// no bound).
TEST_P(BrokerTest, PeerEntriesAreBounded) {
  FakeApplication app(&remote_.registry(), {});
  Broker::Options options;
  options.max_peer_entries = 2;  // "b" (configured) and one more.
  Broker broker(&directory_, &admission_, options);
  v1::ConnectCall first = Call("127.0.0.1:2");
  first.set_timeout_ms(2000);
  EXPECT_FALSE(broker.Connect(Tenant(1000), first).ok());
  v1::ConnectCall second = Call("127.0.0.1:3");
  absl::Status refused = broker.Connect(Tenant(1000), second).status();
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "--max_peer_entries"))
      << refused;
  EXPECT_EQ(broker.peer_entries(), 2);
  // Known peers stay reachable: the configured one, and the one dialled.
  EXPECT_TRUE(broker.Connect(Tenant(1000), Call("b")).ok());
  EXPECT_FALSE(absl::IsResourceExhausted(
      broker.Connect(Tenant(1000), first).status()));
}

// Finding 5: one tenant held all 32 handshake slots with connects to a
// service that never answers, and root's connect then failed.
TEST_P(BrokerTest, SilentConnectsOfOneTenantDoNotStarveAnother) {
  FakeApplication::Options silent;
  silent.service = "silent";
  silent.endpoints = 40;
  silent.answer = false;
  FakeApplication silent_app(&remote_.registry(), silent);
  FakeApplication echo(&remote_.registry(), {});
  AdmissionController admission(
      {/*per_peer=*/32, /*total=*/32, 4096, /*per_tenant=*/8});
  Broker broker(&directory_, &admission);
  ASSERT_TRUE(directory_.Get("b", absl::Now() + absl::Seconds(5)).ok());

  std::vector<std::thread> attackers;
  for (int i = 0; i < 32; ++i) {
    attackers.emplace_back([&broker, i] {
      FastPathCaller caller = Tenant(1000);
      caller.channel_id = 1000 + i;
      v1::ConnectCall call = Call("b");
      call.set_service("silent");
      call.set_timeout_ms(3000);
      (void)broker.Connect(caller, call);
    });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(2);
  while (admission.GetStats().in_flight < 8 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(50));  // Let the rest pile up.
  EXPECT_LE(admission.GetTenantStats(1000).in_flight, 8);

  // Each silent handshake holds its slot ~2 s (the peer's accept timeout):
  // without a per-tenant cap these would wait past their 1 s.
  v1::ConnectCall call = Call("b");
  call.set_timeout_ms(1000);
  absl::StatusOr<v1::ConnectResult> other =
      broker.Connect(Tenant(1001), call);
  EXPECT_TRUE(other.ok()) << other.status();
  absl::StatusOr<v1::ConnectResult> root = broker.Connect(Tenant(0), call);
  EXPECT_TRUE(root.ok()) << root.status();
  for (std::thread& attacker : attackers) {
    attacker.join();
  }
}

INSTANTIATE_TEST_SUITE_P(LinkOrGrpc, BrokerTest, ::testing::Bool());

}  // namespace
}  // namespace swift
