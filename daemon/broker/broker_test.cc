// Host tests for the Broker end to end without RDMA: a local connect goes
// through admission and the PeerDirectory to a TestPeer on localhost (over
// the lean link or gRPC), reaches a fake application, and its close is
// told to the peer in the background.
#include "daemon/broker/broker.h"

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

  ASSERT_TRUE(broker.Close(connected->connection_id()).ok());
  EXPECT_TRUE(broker.Connections().empty());
  EXPECT_TRUE(app.WaitForCloses(1));  // Told in the background.
  EXPECT_TRUE(absl::IsNotFound(broker.Close(connected->connection_id())));
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

INSTANTIATE_TEST_SUITE_P(LinkOrGrpc, BrokerTest, ::testing::Bool());

}  // namespace
}  // namespace swift
