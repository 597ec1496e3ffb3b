// Host tests for what the Broker knows of its connections' remote sides
// (issue 12): a service that closes a connection or exits, a peer swiftd
// that restarts or stops answering, all learnt by the PeerWatcher's Watch
// (run by hand here: watch_interval 0) and told by CheckConnections. Over
// the lean link and over gRPC, against a TestPeer on localhost.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/testing/eventually.h"
#include "common/verbs/endpoint.h"
#include "daemon/broker/broker.h"
#include "daemon/broker/fake_application.h"
#include "daemon/broker/test_peer.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

FastPathCaller Caller(uid_t uid = 1000) {
  FastPathCaller caller;
  caller.channel_id = 3;
  caller.pid = 99;
  caller.uid = uid;
  caller.client_name = "test";
  return caller;
}

class BrokerWatchTest : public ::testing::TestWithParam<bool> {
 protected:
  BrokerWatchTest() {
    Broker::Options options;
    options.watch_interval = absl::ZeroDuration();  // WatchNow() by hand.
    options.default_timeout = absl::Seconds(2);
    broker_ = std::make_unique<Broker>(&directory_, &admission_, options);
  }

  // A connection to "echo" on the peer: its ids here and there.
  struct Made {
    uint64_t id = 0;
    uint64_t server_id = 0;
  };
  Made Connect() {
    v1::ConnectCall call;
    call.set_host("b");
    call.set_service("echo");
    call.set_client_endpoint(verbs::EncodeEndpoint(verbs::QpEndpoint()));
    call.set_timeout_ms(5000);
    absl::StatusOr<v1::ConnectResult> connected =
        broker_->Connect(Caller(), call);
    EXPECT_TRUE(connected.ok()) << connected.status();
    Made made;
    if (connected.ok()) {
      made.id = connected->connection_id();
      for (const Broker::ConnectionView& view : broker_->Connections()) {
        if (view.id == made.id) {
          made.server_id = view.server_connection_id;
        }
      }
    }
    return made;
  }

  v1::ConnectionState Check(uint64_t id, uid_t uid = 1000) {
    v1::CheckConnectionsCall call;
    call.add_connection_ids(id);
    absl::StatusOr<v1::CheckConnectionsResult> checked =
        broker_->CheckConnections(Caller(uid), call);
    EXPECT_TRUE(checked.ok()) << checked.status();
    return checked.ok() && checked->states_size() == 1 ? checked->states(0)
                                                       : v1::ConnectionState();
  }

  TestPeer remote_{21, /*link=*/GetParam()};
  PeerDirectory directory_{1, "127.0.0.1:1", {{"b", remote_.address()}}};
  AdmissionController admission_{AdmissionController::Limits()};
  FakeApplication::Options app_options_ = [] {
    FakeApplication::Options options;
    options.endpoints = 8;
    return options;
  }();
  std::unique_ptr<Broker> broker_;
};

TEST_P(BrokerWatchTest, AConnectionIsLiveUntilItsServiceClosesIt) {
  FakeApplication app(&remote_.registry(), app_options_);
  const Made kept = Connect();
  const Made closed = Connect();
  broker_->watcher().WatchNow();
  EXPECT_TRUE(Check(kept.id).live());
  EXPECT_TRUE(Check(closed.id).live());

  app.CloseConnection(closed.server_id);
  ASSERT_TRUE(testing::Eventually(
      [&] { return remote_.registry().closed_notices().size() == 1; }));
  broker_->watcher().WatchNow();
  const v1::ConnectionState state = Check(closed.id);
  EXPECT_FALSE(state.live());
  EXPECT_TRUE(absl::StrContains(state.reason(), "closed the connection"))
      << state.reason();
  EXPECT_TRUE(Check(kept.id).live());
  // The listing (swiftctl connections) says so too.
  for (const Broker::ConnectionView& view : broker_->Connections()) {
    EXPECT_EQ(view.remote_ended, view.id == closed.id) << view.id;
    EXPECT_EQ(view.remote_problem.empty(), view.id != closed.id) << view.id;
  }

  // The next round acknowledges the notice: the peer forgets it.
  broker_->watcher().WatchNow();
  EXPECT_EQ(remote_.registry().closed_notices().size(), 0u);
  EXPECT_FALSE(Check(closed.id).live());

  // Closing it here tells the peer nothing: it has forgotten it.
  ASSERT_TRUE(broker_->Close(Caller(), closed.id).ok());
  ASSERT_TRUE(broker_->Close(Caller(), kept.id).ok());
  EXPECT_TRUE(app.WaitForCloses(1));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(app.closed_connections(), std::vector<uint64_t>{kept.server_id});
  EXPECT_EQ(broker_->undelivered_closes(), 0u);
}

TEST_P(BrokerWatchTest, AnApplicationThatExitsEndsItsConnections) {
  auto app =
      std::make_unique<FakeApplication>(&remote_.registry(), app_options_);
  const Made first = Connect();
  const Made second = Connect();
  app->Leave();
  broker_->watcher().WatchNow();
  for (const Made& made : {first, second}) {
    const v1::ConnectionState state = Check(made.id);
    EXPECT_FALSE(state.live());
    EXPECT_TRUE(absl::StrContains(state.reason(), "service 'echo'"))
        << state.reason();
  }
}

TEST_P(BrokerWatchTest, APeerRestartEndsEveryConnectionMadeWithIt) {
  auto app =
      std::make_unique<FakeApplication>(&remote_.registry(), app_options_);
  const Made made = Connect();
  app->Leave();  // Before its registry goes with the old swiftd.
  remote_.Restart(22);
  broker_->watcher().WatchNow();
  const v1::ConnectionState state = Check(made.id);
  EXPECT_FALSE(state.live());
  EXPECT_TRUE(absl::StrContains(state.reason(), "restarted")) << state.reason();
  // No close is owed to the new swiftd.
  ASSERT_TRUE(broker_->Close(Caller(), made.id).ok());
  EXPECT_EQ(broker_->undelivered_closes(), 0u);
  EXPECT_TRUE(broker_->WatchedPeers().empty());
}

TEST_P(BrokerWatchTest, APeerThatDoesNotAnswerMakesItsConnectionsSuspect) {
  FakeApplication app(&remote_.registry(), app_options_);
  const Made made = Connect();
  remote_.Stop();
  broker_->watcher().WatchNow();
  v1::ConnectionState state = Check(made.id);
  EXPECT_FALSE(state.live());
  EXPECT_TRUE(absl::StrContains(state.reason(), "does not answer"))
      << state.reason();
  // Back, the same swiftd: the connection stands.
  remote_.Resume();
  ASSERT_TRUE(testing::Eventually([&] {
    broker_->watcher().WatchNow();
    return Check(made.id).live();
  }));
}

TEST_P(BrokerWatchTest, OnlyTheCallersOwnConnectionsAreDescribed) {
  FakeApplication app(&remote_.registry(), app_options_);
  const Made made = Connect();
  v1::ConnectionState other = Check(made.id, /*uid=*/1001);
  EXPECT_FALSE(other.live());
  EXPECT_TRUE(absl::StrContains(other.reason(), "no connection"))
      << other.reason();
  EXPECT_TRUE(Check(made.id, /*uid=*/0).live());  // Root sees all.
  EXPECT_FALSE(Check(12345).live());

  v1::CheckConnectionsCall too_many;
  for (int i = 0; i <= Broker::kMaxCheckedConnections; ++i) {
    too_many.add_connection_ids(i);
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      broker_->CheckConnections(Caller(), too_many).status()));
}

TEST_P(BrokerWatchTest, NothingIsWatchedWithoutConnections) {
  EXPECT_TRUE(broker_->WatchedPeers().empty());
  FakeApplication app(&remote_.registry(), app_options_);
  const Made made = Connect();
  EXPECT_EQ(broker_->WatchedPeers(),
            std::vector<std::string>{remote_.address()});
  ASSERT_TRUE(broker_->Close(Caller(), made.id).ok());
  EXPECT_TRUE(broker_->WatchedPeers().empty());
}

INSTANTIATE_TEST_SUITE_P(LinkOrGrpc, BrokerWatchTest, ::testing::Bool());

// The watcher's own thread, at its interval.
TEST(PeerWatcherThreadTest, WatchesAtItsIntervalOnItsOwn) {
  TestPeer remote(21, /*link=*/true);
  PeerDirectory directory(1, "127.0.0.1:1", {{"b", remote.address()}});
  AdmissionController admission{AdmissionController::Limits()};
  Broker::Options options;
  options.watch_interval = absl::Milliseconds(20);
  Broker broker(&directory, &admission, options);
  auto app = std::make_unique<FakeApplication>(&remote.registry(),
                                               FakeApplication::Options());
  v1::ConnectCall call;
  call.set_host("b");
  call.set_service("echo");
  call.set_client_endpoint(verbs::EncodeEndpoint(verbs::QpEndpoint()));
  absl::StatusOr<v1::ConnectResult> connected = broker.Connect(Caller(), call);
  ASSERT_TRUE(connected.ok()) << connected.status();
  app->Leave();
  remote.Restart(22);
  v1::CheckConnectionsCall check;
  check.add_connection_ids(connected->connection_id());
  EXPECT_TRUE(testing::Eventually([&] {
    absl::StatusOr<v1::CheckConnectionsResult> checked =
        broker.CheckConnections(Caller(), check);
    return checked.ok() && !checked->states(0).live();
  }));
  EXPECT_GT(broker.watcher().rounds(), 0u);
}

}  // namespace
}  // namespace swift
