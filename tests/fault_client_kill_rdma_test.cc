// Fault: a client SIGKILLed at each stage of a brokered connect, on the
// two hosts of the Soft-RoCE guest (swiftd A and B as processes; the
// service listens through A, the client, tests/fault_client, through B):
//   (a) right after its fast-path hello (a Session, nothing else),
//   (b) with a connect in flight: the service is slow to accept, so swiftd
//       A waits for it and swiftd B for A (mid-handshake),
//   (c) holding connected connections,
//   (d) while closing its connections.
// After each kill, what must hold: both swiftds' listings (clients,
// connections, handshakes, services, tenants' use) and the kernel's verbs
// objects return to the baseline taken before the client started, and a
// new client's connection through both swiftds carries data.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/testing/eventually.h"
#include "tests/fault_client_process.h"
#include "tests/fault_observations.h"
#include "tests/fault_slow_service.h"
#include "tests/fault_swiftd_pair.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;
using ::swift::testing::FaultClientProcess;
using ::swift::testing::FaultPairTest;
using ::swift::testing::Observe;
using ::swift::testing::SlowService;

constexpr int kPeerPort = 17611;

class FaultClientKillRdmaTest : public FaultPairTest {
 protected:
  FaultClientKillRdmaTest() : FaultPairTest(kPeerPort) {}

  // The service "echo" on A; one client's round trip first, so that the
  // service's pools are in their steady state; then the baseline.
  void SetUp() override {
    FaultPairTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(StartService(a_, "echo").ok());
    absl::Status flows = DataFlows(b_, a_, "start");
    ASSERT_TRUE(flows.ok()) << flows;
    TakeBaseline();
  }

  // What every kill must leave: the baseline, and both swiftds broker.
  void ExpectRecovered(const std::string& stage) {
    ExpectBaseline("client killed " + stage);
    absl::Status flows = DataFlows(b_, a_, "a client killed " + stage);
    EXPECT_TRUE(flows.ok()) << flows;
  }

  // Connections swiftd B lists.
  int ConnectionsOnB() {
    auto listed = Control(b_)->ListConnections();
    return listed.ok() ? listed->connections_size() : -1;
  }
};

TEST_F(FaultClientKillRdmaTest, KilledAfterTheFastPathHello) {
  FaultClientProcess client(ConnectFlags(b_, a_, "echo"));
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  client.Kill();
  ExpectRecovered("after its hello");
}

TEST_F(FaultClientKillRdmaTest, KilledWithAConnectInFlight) {
  absl::StatusOr<SlowService> opened = SlowService::Open(a_.socket, "slow");
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::optional<SlowService> slow(*std::move(opened));
  FaultClientProcess client(ConnectFlags(b_, a_, "slow"));
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  client.Continue();
  // swiftd A asks the service to accept: the handshake is under way.
  absl::StatusOr<v1::ServiceDown> event = slow->Next(absl::Seconds(30));
  ASSERT_TRUE(event.ok()) << event.status();
  ASSERT_TRUE(event->has_accept()) << event->DebugString();
  EXPECT_TRUE(absl::StrContains(StateOf(b_), "handshakes 1"))
      << "swiftd B is not mid-handshake:\n"
      << StateOf(b_);
  client.Kill();
  // The service accepts after all: swiftd B finishes a connect whose client
  // is gone, and must close it again at A, which tells the service.
  ASSERT_TRUE(slow->Answer(event->accept().event_id(), 0).ok());
  absl::StatusOr<v1::ServiceDown> closed = slow->Next(absl::Seconds(30));
  ASSERT_TRUE(closed.ok()) << "the orphaned connection was never closed at A: "
                           << closed.status();
  EXPECT_TRUE(closed->has_closed()) << closed->DebugString();
  Observe(absl::StrCat("the service got ",
                       closed->has_closed() ? "a ClosedEvent" : "no close",
                       " for the connection its killed client left"));
  EXPECT_EQ(closed->closed().connection_id(), event->accept().connection_id());
  slow.reset();  // The service ends: A lists "echo" alone again.
  ExpectRecovered("with a connect in flight");
}

TEST_F(FaultClientKillRdmaTest, KilledHoldingConnections) {
  std::vector<std::string> flags = ConnectFlags(b_, a_, "echo");
  flags.push_back("--connections=3");
  flags.push_back("--write=held");
  FaultClientProcess client(flags);
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  client.Continue();
  ASSERT_TRUE(client.WaitForStage("connected")) << client.output();
  EXPECT_EQ(ConnectionsOnB(), 3);
  EXPECT_TRUE(Eventually([&] { return ServiceConnections() == 3; }));
  client.Kill();
  // The service hears that each of its connections was closed.
  EXPECT_TRUE(
      Eventually([&] { return ServiceConnections() == 0; }, absl::Seconds(30)))
      << ServiceConnections() << " connections still open at the service";
  ExpectRecovered("holding connections");
}

// (e) issue 12: holding pre-connected pairs (Session::Prewarm) besides a
// connection taken from them: the pairs are connections on both swiftds
// like any other, and go with the client.
TEST_F(FaultClientKillRdmaTest, KilledHoldingPreconnectedPairs) {
  std::vector<std::string> flags = ConnectFlags(b_, a_, "echo");
  flags.push_back("--prewarm=3");
  flags.push_back("--write=pooled");
  FaultClientProcess client(flags);
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  client.Continue();
  ASSERT_TRUE(client.WaitForStage("connected")) << client.output();
  EXPECT_TRUE(absl::StrContains(client.output(), "STAGE prewarmed 3"))
      << client.output();
  // The one taken and the pool refilled behind it: 4 on both sides.
  EXPECT_TRUE(Eventually([&] { return ConnectionsOnB() == 4; }))
      << ConnectionsOnB();
  EXPECT_TRUE(Eventually([&] { return ServiceConnections() == 4; }))
      << ServiceConnections();
  client.Kill();
  EXPECT_TRUE(
      Eventually([&] { return ServiceConnections() == 0; }, absl::Seconds(30)))
      << ServiceConnections() << " connections still open at the service";
  ExpectRecovered("holding pre-connected pairs");
}

TEST_F(FaultClientKillRdmaTest, KilledWhileClosing) {
  constexpr int kConnections = 8;
  std::vector<std::string> flags = ConnectFlags(b_, a_, "echo");
  flags.push_back(absl::StrCat("--connections=", kConnections));
  FaultClientProcess client(flags);
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  client.Continue();
  ASSERT_TRUE(client.WaitForStage("connected")) << client.output();
  client.Continue();
  ASSERT_TRUE(client.WaitForStage("closing")) << client.output();
  client.Continue();
  // Three closes done, the fourth under way.
  ASSERT_TRUE(client.WaitForStage("closing 3")) << client.output();
  client.Kill();
  const int left = ConnectionsOnB();
  Observe(absl::StrCat("killed while closing: ", left, " of ", kConnections,
                       " connections still listed by swiftd B"));
  ExpectRecovered("while closing");
}

}  // namespace
}  // namespace swift
