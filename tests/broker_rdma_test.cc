// Brokered connections on two "hosts" of the Soft-RoCE guest: swiftd A on
// rxeA and swiftd B on rxeB (both in this process, each with its own
// sockets and Peer API address), a service listening through A and a
// client connecting through B. Data crosses the veth wire between them.
#include <infiniband/verbs.h>

#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/seqpacket_socket.h"
#include "common/unix_socket.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/post_and_wait.h"
#include "common/version.h"
#include "proto/fast_path.pb.h"
#include "swift/session.h"
#include "tests/two_swiftd_fixture.h"

namespace swift {
namespace {

using ::swift::testing::SwiftdHost;
using ::swift::testing::TwoSwiftdTest;
using ::swift::testing::WriteTo;

constexpr int kPeerPort = 17471;

class BrokerRdmaTest : public TwoSwiftdTest {
 protected:
  BrokerRdmaTest() : TwoSwiftdTest(kPeerPort) {
    // Clients may name host A instead of giving its address.
    for (SwiftdHost* host : {&a_, &b_}) {
      host->options.peers = {{"host-a", a_.peer_address()}};
      host->options.accept_timeout = absl::Seconds(5);
    }
  }
};

// Every QP the pool created is back in it (ready, or resting after a
// recycle) or was destroyed: none is held by a failed connect. (The refill
// thread may still be adding QPs: waits.)
bool PoolIsWhole(const Session& session) {
  for (int i = 0; i < 500; ++i) {
    const PoolStats stats = session.pool_stats();
    if (stats.created - stats.destroyed ==
        static_cast<uint64_t>(stats.ready + stats.resting)) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  const PoolStats stats = session.pool_stats();
  ADD_FAILURE() << "pool: created " << stats.created << ", destroyed "
                << stats.destroyed << ", ready " << stats.ready << ", resting "
                << stats.resting;
  return false;
}

TEST_F(BrokerRdmaTest, DataMovesBothWaysOverABrokeredConnection) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_);
  auto client = SessionOn(b_);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("echo", 2);
  ASSERT_TRUE(listener.ok()) << listener.status();

  auto connection = client->Connect(a_.peer_address(), "echo");
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto accepted = (*listener)->Accept(absl::Seconds(10));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ((*accepted)->id() != 0, true);

  // The service's QP reached RTS before the client's Connect returned.
  ibv_qp_attr attr = {};
  ibv_qp_init_attr init = {};
  ASSERT_EQ(ibv_query_qp((*accepted)->qp(), &attr, IBV_QP_STATE, &init), 0);
  EXPECT_EQ(attr.qp_state, IBV_QPS_RTS);
  ASSERT_EQ(ibv_query_qp((*connection)->qp(), &attr, IBV_QP_STATE, &init), 0);
  EXPECT_EQ(attr.qp_state, IBV_QPS_RTS);

  // Each side advertised its session buffer.
  EXPECT_EQ((*connection)->remote().rkey, (*accepted)->mr()->rkey);
  EXPECT_EQ((*accepted)->remote().rkey, (*connection)->mr()->rkey);

  const std::string to_server = "client->server over rxeB->rxeA";
  ASSERT_TRUE(WriteTo(**connection, to_server, 4096).ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>((*accepted)->buffer()) + 4096,
                        to_server.size()),
            to_server);
  const std::string to_client = "server->client over rxeA->rxeB";
  ASSERT_TRUE(WriteTo(**accepted, to_client, 2048).ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>((*connection)->buffer()) + 2048,
                        to_client.size()),
            to_client);

  // swiftd B recorded the connection; swiftd A's service counted it.
  ASSERT_EQ(b_.swiftd->broker()->Connections().size(), 1u);
  EXPECT_EQ(a_.swiftd->services().Stats().at(0).accepted, 1u);

  ASSERT_TRUE((*connection)->Close().ok());
  EXPECT_TRUE(b_.swiftd->broker()->Connections().empty());
  // The service hears of the close.
  for (int i = 0; i < 500 && !(*accepted)->peer_closed(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE((*accepted)->peer_closed());
}

TEST_F(BrokerRdmaTest, ConnectsByPeerNameToo) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_);
  auto client = SessionOn(b_);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("named", 1);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto connection = client->Connect("host-a", "named");
  ASSERT_TRUE(connection.ok()) << connection.status();
}

TEST_F(BrokerRdmaTest, UnknownServiceIsNotFoundAndThePoolStaysWhole) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto client = SessionOn(b_, /*pool_low=*/2, /*pool_high=*/2);
  ASSERT_TRUE(client);
  auto connection = client->Connect(a_.peer_address(), "no-such-service");
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kNotFound)
      << connection.status();
  EXPECT_TRUE(PoolIsWhole(*client));
  EXPECT_EQ(client->pool_stats().destroyed, 0u);
  // The failure is counted by reason.
  EXPECT_EQ(b_.swiftd->broker()->GetCounters().failed.at("NOT_FOUND"), 1u);
}

TEST_F(BrokerRdmaTest, EmptyServicePoolIsResourceExhausted) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  // A service that advertises no QP at all, spoken by hand.
  auto channel = SeqpacketSocket::Connect(FastPathSocketPath(a_.socket()));
  ASSERT_TRUE(channel.ok()) << channel.status();
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_channel(v1::FastHello::SERVICE);
  ASSERT_TRUE(channel->Send(hello.SerializeAsString()).ok());
  ASSERT_TRUE(channel->Receive().ok());
  v1::ServiceUp listen;
  listen.mutable_listen()->set_service("empty");
  ASSERT_TRUE(channel->Send(listen.SerializeAsString()).ok());
  ASSERT_TRUE(channel->Receive().ok());

  auto client = SessionOn(b_, 1, 1);
  ASSERT_TRUE(client);
  auto connection = client->Connect(a_.peer_address(), "empty");
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kResourceExhausted)
      << connection.status();
  EXPECT_TRUE(PoolIsWhole(*client));
  EXPECT_EQ(client->pool_stats().destroyed, 0u);
}

TEST_F(BrokerRdmaTest, PeerDaemonKilledMidHandshakeIsUnavailable) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  // A service that takes the AcceptEvent and never answers it.
  auto channel = SeqpacketSocket::Connect(FastPathSocketPath(a_.socket()));
  ASSERT_TRUE(channel.ok());
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_channel(v1::FastHello::SERVICE);
  ASSERT_TRUE(channel->Send(hello.SerializeAsString()).ok());
  ASSERT_TRUE(channel->Receive().ok());
  v1::ServiceUp listen;
  listen.mutable_listen()->set_service("stuck");
  verbs::QpEndpoint fake;
  fake.qpn = 0x1234;
  fake.psn = 1;
  listen.mutable_listen()->add_endpoints(verbs::EncodeEndpoint(fake));
  ASSERT_TRUE(channel->Send(listen.SerializeAsString()).ok());
  ASSERT_TRUE(channel->Receive().ok());

  auto client = SessionOn(b_, 1, 1);
  ASSERT_TRUE(client);
  absl::StatusOr<std::unique_ptr<Connection>> connection;
  std::thread connecting([&] {
    connection = client->Connect(a_.peer_address(), "stuck", absl::Seconds(20));
  });
  // Wait until swiftd A has sent the accept event, then kill swiftd A.
  auto event = channel->Receive();
  ASSERT_TRUE(event.ok());
  a_.swiftd->Shutdown(absl::ZeroDuration());
  connecting.join();
  EXPECT_TRUE(absl::IsUnavailable(connection.status()) ||
              absl::IsCancelled(connection.status()))
      << connection.status();
  EXPECT_NE(connection.status().message().find(a_.peer_address()),
            absl::string_view::npos)
      << connection.status();
  // The client's QP went back to its pool; swiftd B holds no connection.
  EXPECT_TRUE(PoolIsWhole(*client));
  EXPECT_EQ(client->pool_stats().destroyed, 0u);
  EXPECT_TRUE(b_.swiftd->broker()->Connections().empty());
}

TEST_F(BrokerRdmaTest, RecycledQpCarriesDataOnReuse) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_);
  // One pooled QP at most, none created ahead: the second connect must get
  // the first one's QP back, recycled (the client closed it: no rest).
  SessionOptions options;
  options.socket_path = b_.socket();
  options.pool_low = 0;
  options.pool_high = 1;
  options.buffer_bytes = 8192;
  auto client = Session::Create(options);
  ASSERT_TRUE(server && client.ok()) << client.status();
  auto listener = server->Listen("reuse", 2);
  ASSERT_TRUE(listener.ok()) << listener.status();

  uint32_t first_qpn = 0;
  for (int round = 0; round < 2; ++round) {
    auto connection = (*client)->Connect(a_.peer_address(), "reuse");
    ASSERT_TRUE(connection.ok()) << connection.status();
    auto accepted = (*listener)->Accept(absl::Seconds(10));
    ASSERT_TRUE(accepted.ok()) << accepted.status();
    if (round == 0) {
      first_qpn = (*connection)->qp()->qp_num;
    } else {
      EXPECT_EQ((*connection)->qp()->qp_num, first_qpn);
    }
    const std::string bytes = absl::StrCat("round ", round, " payload");
    ASSERT_TRUE(WriteTo(**connection, bytes, 0).ok());
    EXPECT_EQ(std::string(reinterpret_cast<char*>((*accepted)->buffer()),
                          bytes.size()),
              bytes);
    ASSERT_TRUE((*connection)->Close().ok());
  }
  EXPECT_GE((*client)->pool_stats().recycled, 1u);
}

// A burst of concurrent connects to a listener with a small backlog: the
// listener accepts them on several threads and replaces the QPs they took
// in the background, yet swiftd's pool never runs dry (no connect is
// refused), and the burst of closes that follows (batched over the peer
// link) reaches every accepted connection and leaves the pool whole.
TEST_F(BrokerRdmaTest, BurstOfConnectsAndClosesKeepsTheServicePoolWhole) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  constexpr int kBacklog = 8;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 6;
  auto server = SessionOn(a_, kBacklog, 2 * kBacklog);
  auto client = SessionOn(b_, kThreads, 2 * kThreads);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("burst", kBacklog);
  ASSERT_TRUE(listener.ok()) << listener.status();

  std::vector<std::unique_ptr<Connection>> connections;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto connection = client->Connect(a_.peer_address(), "burst");
        absl::MutexLock lock(&mu);
        EXPECT_TRUE(connection.ok()) << connection.status();
        if (connection.ok()) {
          connections.push_back(*std::move(connection));
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  ASSERT_EQ(connections.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<std::unique_ptr<Connection>> accepted;
  for (size_t i = 0; i < connections.size(); ++i) {
    auto connection = (*listener)->Accept(absl::Seconds(10));
    ASSERT_TRUE(connection.ok()) << connection.status();
    accepted.push_back(*std::move(connection));
  }
  // Every connection works: the client writes into the server's buffer.
  for (size_t i = 0; i < connections.size(); ++i) {
    ASSERT_TRUE(WriteTo(*connections[i], absl::StrCat("c", i), 64 * i).ok());
  }
  // (All of the server's connections share its session buffer.)
  const char* server_buffer = reinterpret_cast<char*>(accepted[0]->buffer());
  for (size_t i = 0; i < connections.size(); ++i) {
    const std::string expected = absl::StrCat("c", i);
    EXPECT_EQ(std::string(server_buffer + 64 * i, expected.size()), expected);
  }

  // Closed all at once: every accepted connection hears of its close.
  for (auto& connection : connections) {
    ASSERT_TRUE(connection->Close().ok());
  }
  for (auto& connection : accepted) {
    for (int i = 0; i < 500 && !connection->peer_closed(); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_TRUE(connection->peer_closed()) << connection->id();
  }
  const auto stats = a_.swiftd->services().Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].accepted, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(stats[0].refused, 0u);
  EXPECT_EQ(stats[0].connections, 0);
  // Every QP an accept took was replaced.
  for (int i = 0; i < 500 && a_.swiftd->services().Stats()[0].pooled < kBacklog;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(a_.swiftd->services().Stats()[0].pooled, kBacklog);
  EXPECT_TRUE(b_.swiftd->broker()->Connections().empty());
}

}  // namespace
}  // namespace swift
