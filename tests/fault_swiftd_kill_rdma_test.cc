// Faults of a swiftd itself, on the two hosts of the Soft-RoCE guest
// (swiftd A and B as processes):
//   - swiftd B SIGKILLed under a client that holds a session and a
//     connection through it, then restarted: the client's next connect
//     fails with a clear error, its established connection still carries
//     data (the data path never crosses swiftd), after the restart the old
//     session reconnects and a new session connects, both carry data, the
//     connection of the killed swiftd's time is closed at the service when
//     its client closes it, and once everything is closed the
//     kernel holds exactly the verbs objects it held before the first
//     swiftd started;
//   - swiftd B SIGKILLed mid-handshake (a connect from A's side waits for
//     B's service): the client on A gets a clear error naming B within its
//     timeout, swiftd A keeps no half connection, and once B is back a
//     connect from A works (A refreshed what it knew of B).
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/eventually.h"
#include "common/verbs/post_and_wait.h"
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

constexpr int kPeerPort = 17631;

class FaultSwiftdKillRdmaTest : public FaultPairTest {
 protected:
  FaultSwiftdKillRdmaTest() : FaultPairTest(kPeerPort) {}

  std::unique_ptr<Session> SessionOn(const testing::FaultHost& host) {
    SessionOptions options;
    options.socket_path = host.socket;
    options.client_name = "fault_session";
    options.pool_low = 1;
    options.pool_high = 2;
    options.buffer_bytes = 8192;
    auto session = Session::Create(options);
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? *std::move(session) : nullptr;
  }

  // `text` written over `connection` lands at `offset` of the service.
  void ExpectWriteLands(Connection& connection, const std::string& text,
                        size_t offset) {
    std::memcpy(connection.buffer(), text.data(), text.size());
    ibv_sge sge = {reinterpret_cast<uint64_t>(connection.buffer()),
                   static_cast<uint32_t>(text.size()), connection.mr()->lkey};
    ibv_send_wr wr = verbs::SignaledRdmaRequest(
        IBV_WR_RDMA_WRITE, &sge, connection.remote().addr + offset,
        connection.remote().rkey, /*wr_id=*/1);
    ASSERT_TRUE(verbs::PostAndWait(connection.qp(), connection.cq(), wr,
                                   absl::Seconds(10))
                    .ok());
    EXPECT_TRUE(Eventually([&] {
      return ServiceBytes(offset, text.size()) == text;
    })) << ServiceBytes(offset, text.size());
  }
};

// After swiftd B restarts, swiftd A must close the connections B's previous
// incarnation made (B no longer knows them): A kept one for good before
// ServiceRegistry::CloseOlderIncarnations().
TEST_F(FaultSwiftdKillRdmaTest, KilledAndRestartedUnderAClient) {
  ASSERT_TRUE(StartService(a_, "echo").ok());
  std::unique_ptr<Session> session = SessionOn(b_);
  ASSERT_NE(session, nullptr);
  auto connection = session->Connect(a_.peer_address, "echo");
  ASSERT_TRUE(connection.ok()) << connection.status();
  ExpectWriteLands(**connection, "before the kill", 1024);

  KillSwiftd(b_);
  // The established connection is the application's: it still works.
  ExpectWriteLands(**connection, "after the kill", 2048);
  // A new connect needs swiftd: a clear error.
  auto refused = session->Connect(a_.peer_address, "echo", absl::Seconds(5));
  Observe(absl::StrCat("connect with swiftd B killed: ",
                       refused.status().ToString()));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable)
      << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "swiftd"))
      << refused.status();

  ASSERT_TRUE(StartSwiftd(b_).ok());
  // The old session reconnects to the new swiftd on its next call.
  auto retried = session->Connect(a_.peer_address, "echo", absl::Seconds(5));
  Observe(absl::StrCat("old session's connect after the restart: ",
                       retried.status().ToString()));
  ASSERT_TRUE(retried.ok()) << retried.status();
  ExpectWriteLands(**retried, "old session, new swiftd", 3584);
  // A new session works and carries data, through the restarted swiftd.
  std::unique_ptr<Session> fresh = SessionOn(b_);
  ASSERT_NE(fresh, nullptr);
  auto reconnected = fresh->Connect(a_.peer_address, "echo");
  ASSERT_TRUE(reconnected.ok()) << reconnected.status();
  ExpectWriteLands(**reconnected, "after the restart", 3072);
  absl::Status flows = DataFlows(b_, a_, "swiftd B restarted");
  EXPECT_TRUE(flows.ok()) << flows;

  // Closing the connection of the killed swiftd's time: swiftd A must not
  // keep it for good.
  const absl::Status closed = (*connection)->Close();
  Observe(absl::StrCat("closing the old connection: ", closed.ToString()));
  const absl::Status closed_new = (*reconnected)->Close();
  EXPECT_TRUE(closed_new.ok()) << closed_new;
  const absl::Status closed_retried = (*retried)->Close();
  EXPECT_TRUE(closed_retried.ok()) << closed_retried;
  EXPECT_TRUE(
      Eventually([&] { return ServiceConnections() == 0; }, absl::Seconds(30)))
      << ServiceConnections() << " connections left at the service";
  // Connections before their sessions.
  connection->reset();
  reconnected->reset();
  retried->reset();
  session.reset();
  fresh.reset();
  StopService();
  EXPECT_EQ(StopSwiftd(b_), 0);
  EXPECT_EQ(StopSwiftd(a_), 0);
  ExpectVerbsObjects(verbs_before_swiftds_,
                     "swiftd B killed and restarted, then all stopped");
}

TEST_F(FaultSwiftdKillRdmaTest, PeerKilledMidHandshake) {
  absl::StatusOr<SlowService> opened = SlowService::Open(b_.socket, "slow");
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::optional<SlowService> slow(*std::move(opened));
  TakeBaseline();
  constexpr int kTimeoutMs = 10000;
  std::vector<std::string> flags = ConnectFlags(a_, b_, "slow");
  flags.push_back(absl::StrCat("--connect_timeout_ms=", kTimeoutMs));
  FaultClientProcess client(flags);
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  client.Continue();
  absl::StatusOr<v1::ServiceDown> event = slow->Next(absl::Seconds(30));
  ASSERT_TRUE(event.ok()) << event.status();
  ASSERT_TRUE(event->has_accept()) << event->DebugString();

  const absl::Time killed = absl::Now();
  KillSwiftd(b_);
  const std::string error = client.WaitForLine("ERROR", absl::Seconds(30));
  const absl::Duration took = absl::Now() - killed;
  Observe(absl::StrCat("client on A, swiftd B killed mid-handshake, after ",
                       absl::FormatDuration(took), ": ", error));
  EXPECT_TRUE(absl::StartsWith(error, "ERROR UNAVAILABLE: ")) << error;
  EXPECT_TRUE(absl::StrContains(error, b_.peer_address)) << error;
  EXPECT_LT(took, absl::Milliseconds(kTimeoutMs)) << "not within its timeout";
  EXPECT_EQ(client.Wait(), 3);
  slow.reset();

  // No half connection at A: its state is as before the connect.
  std::string state_a;
  EXPECT_TRUE(Eventually([&] { return (state_a = StateOf(a_)) == baseline_a_; },
                         absl::Seconds(30)))
      << "A before:\n"
      << baseline_a_ << "\nA now:\n"
      << state_a;

  // B comes back (a new incarnation) with a new service: A learns of both.
  ASSERT_TRUE(StartSwiftd(b_).ok());
  ASSERT_TRUE(StartService(b_, "echo").ok());
  absl::Status flows = DataFlows(a_, b_, "swiftd B killed mid-handshake");
  EXPECT_TRUE(flows.ok()) << flows;
  auto status_b = Control(b_)->GetStatus();
  auto peers = Control(a_)->ListPeers();
  ASSERT_TRUE(status_b.ok() && peers.ok());
  bool refreshed = false;
  for (const auto& peer : peers->peers()) {
    if (peer.address() == b_.peer_address) {
      refreshed = peer.incarnation() == status_b->incarnation();
      EXPECT_TRUE(refreshed) << peer.DebugString();
    }
  }
  EXPECT_TRUE(refreshed) << peers->DebugString();
}

}  // namespace
}  // namespace swift
