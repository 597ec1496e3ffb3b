// Pre-connected pools (issue 12) on the two hosts of the Soft-RoCE guest:
// a service on swiftd A (rxeA), a client session on swiftd B (rxeB) that
// keeps pairs connected ahead of time with Session::Prewarm(). A pooled
// pair carries data both ways; a pair whose server side was closed, whose
// server application went away or whose peer swiftd restarted is never
// handed out (Connect() gives a working QP or a clear error); the pools
// stay bounded under a storm of connects; and nothing is left on either
// side once the sessions are gone.
#include <infiniband/verbs.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/testing/eventually.h"
#include "swift/session.h"
#include "tests/two_swiftd_fixture.h"

namespace swift {
namespace {

using ::swift::testing::SwiftdHost;
using ::swift::testing::TwoSwiftdTest;
using ::swift::testing::WriteTo;

constexpr int kPeerPort = 17691;

uint32_t DestQpn(ibv_qp* qp) {
  ibv_qp_attr attr = {};
  ibv_qp_init_attr init = {};
  if (ibv_query_qp(qp, &attr, IBV_QP_DEST_QPN, &init) != 0) {
    return 0;
  }
  return attr.dest_qp_num;
}

class PreconnectRdmaTest : public TwoSwiftdTest {
 protected:
  PreconnectRdmaTest() : TwoSwiftdTest(kPeerPort) {
    for (SwiftdHost* host : {&a_, &b_}) {
      host->options.accept_timeout = absl::Seconds(5);
      host->options.peer_watch_interval = absl::Milliseconds(200);
    }
  }

  std::unique_ptr<Session> ClientOn(const SwiftdHost& host,
                                    int learn_preconnect_after = 0) {
    SessionOptions options;
    options.learn_preconnect_after = learn_preconnect_after;
    options.socket_path = host.socket();
    options.pool_low = 4;
    options.pool_high = 16;
    options.buffer_bytes = 8192;
    options.recycle_quiet_period = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(options);
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? *std::move(session) : nullptr;
  }

  // Accepts connections until `count` are held.
  void AcceptUpTo(Listener& listener, size_t count,
                  std::vector<std::unique_ptr<Connection>>* held) {
    while (held->size() < count) {
      auto accepted = listener.Accept(absl::Seconds(10));
      ASSERT_TRUE(accepted.ok()) << accepted.status();
      held->push_back(*std::move(accepted));
    }
  }

  // The server side of `client`'s connection among `accepted`.
  static Connection* PeerOf(
      const Connection& client,
      const std::vector<std::unique_ptr<Connection>>& accepted) {
    for (const auto& connection : accepted) {
      if (DestQpn(connection->qp()) == client.qp()->qp_num) {
        return connection.get();
      }
    }
    return nullptr;
  }

  // Both swiftds hold no connection (the service's count on A, the
  // broker's on B).
  bool NothingLeft() {
    return ::swift::testing::Eventually([&] {
      size_t on_a = 0;
      for (const auto& stats : a_.swiftd->services().Stats()) {
        on_a += stats.connections;
      }
      return on_a == 0 && b_.swiftd->broker()->Connections().empty();
    });
  }
};

TEST_F(PreconnectRdmaTest, APooledPairCarriesDataBothWays) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_);
  auto client = ClientOn(b_);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("kv", 8);
  ASSERT_TRUE(listener.ok()) << listener.status();

  absl::StatusOr<int> ready = client->Prewarm(a_.peer_address(), "kv", 4);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, 4);
  // The server saw them as accepted connections as they were made.
  std::vector<std::unique_ptr<Connection>> accepted;
  AcceptUpTo(**listener, 4, &accepted);

  auto connection = client->Connect(a_.peer_address(), "kv");
  ASSERT_TRUE(connection.ok()) << connection.status();
  const ConnectSteps steps = (*connection)->connect_steps();
  EXPECT_TRUE(steps.preconnected);
  EXPECT_GT(steps.check_us, 0);
  EXPECT_GT(steps.probe_us, 0);
  EXPECT_EQ(steps.peer_link_us, 0);  // No handshake.
  // swiftd's change page stood still since the pairs were made: the take
  // asked swiftd nothing.
  EXPECT_EQ(client->preconnect_stats().checks_saved, 1u);
  Connection* server_side = PeerOf(**connection, accepted);
  ASSERT_NE(server_side, nullptr);

  const std::string to_server = "pooled pair: client -> server";
  ASSERT_TRUE(WriteTo(**connection, to_server, 4096).ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(server_side->buffer()) + 4096,
                        to_server.size()),
            to_server);
  const std::string to_client = "pooled pair: server -> client";
  ASSERT_TRUE(WriteTo(*server_side, to_client, 2048).ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>((*connection)->buffer()) + 2048,
                        to_client.size()),
            to_client);

  // The pool is refilled behind the take: a fifth connection is made.
  EXPECT_EQ(client->preconnect_stats().hits, 1u);
  AcceptUpTo(**listener, 5, &accepted);
  EXPECT_TRUE(::swift::testing::Eventually(
      [&] { return client->preconnect_stats().ready == 4; }));

  // Closing it tells the server; the client's session ending closes the
  // rest: nothing is left on either side.
  ASSERT_TRUE((*connection)->Close().ok());
  EXPECT_TRUE(
      ::swift::testing::Eventually([&] { return server_side->peer_closed(); }));
  client.reset();
  EXPECT_TRUE(NothingLeft());
}

// A pool learned from use: after three handshakes to one service within
// the window, the session prewarms it by itself; the next Connect() takes
// a pooled pair, which carries data, and nothing is left at the end.
TEST_F(PreconnectRdmaTest, APoolLearnedFromUseServesTheNextConnect) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_);
  auto client = ClientOn(b_, /*learn_preconnect_after=*/3);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("learned", 8);
  ASSERT_TRUE(listener.ok()) << listener.status();
  std::vector<std::unique_ptr<Connection>> accepted;
  for (int i = 0; i < 3; ++i) {
    auto connection = client->Connect(a_.peer_address(), "learned");
    ASSERT_TRUE(connection.ok()) << connection.status();
    EXPECT_FALSE((*connection)->connect_steps().preconnected);
    AcceptUpTo(**listener, accepted.size() + 1, &accepted);
    ASSERT_TRUE((*connection)->Close().ok());
  }
  EXPECT_EQ(client->preconnect_stats().learned, 1u);
  // Its target is the handshakes seen within one second: three, unless
  // the host was slow enough to spread them. The pairs are made in the
  // background (the server accepts them as they come).
  const int target = client->preconnect_stats().target;
  EXPECT_GE(target, 1);
  EXPECT_LE(target, 3);
  AcceptUpTo(**listener, accepted.size() + target, &accepted);
  EXPECT_TRUE(::swift::testing::Eventually([&] {
    return client->preconnect_stats().ready == target;
  })) << client->preconnect_stats().ready;

  auto connection = client->Connect(a_.peer_address(), "learned");
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_TRUE((*connection)->connect_steps().preconnected);
  Connection* server_side = PeerOf(**connection, accepted);
  ASSERT_NE(server_side, nullptr);
  const std::string to_server = "learned pair: client -> server";
  ASSERT_TRUE(WriteTo(**connection, to_server, 1024).ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(server_side->buffer()) + 1024,
                        to_server.size()),
            to_server);
  connection->reset();
  client.reset();
  EXPECT_TRUE(NothingLeft());
}

// The server application closes its side of pooled pairs: they are
// dropped (swiftd B learns it within its watch interval; before that the
// probe finds the server's QP resting), and Connect() gives a working
// pair that is not one of them.
TEST_F(PreconnectRdmaTest, PairsTheServerClosedAreNeverHandedOut) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_, 2, 16);
  auto client = ClientOn(b_);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("kv", 8);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_EQ(*client->Prewarm(a_.peer_address(), "kv", 3), 3);
  std::vector<std::unique_ptr<Connection>> accepted;
  AcceptUpTo(**listener, 3, &accepted);
  absl::flat_hash_set<uint32_t> closed_client_qpns;
  for (auto& connection : accepted) {
    closed_client_qpns.insert(DestQpn(connection->qp()));
    ASSERT_TRUE(connection->Close().ok());
  }
  accepted.clear();
  // Closed here first: the server's QPs rest before serving anyone else.
  EXPECT_EQ(server->pool_stats().resting, 3);

  auto connection = client->Connect(a_.peer_address(), "kv");
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_FALSE(closed_client_qpns.contains((*connection)->qp()->qp_num))
      << "a pair whose server side was closed was handed out";
  // The pool refills behind the connect: the server accepts until it
  // holds the connection's other side.
  Connection* server_side = nullptr;
  for (size_t count = 1; server_side == nullptr && count <= 8; ++count) {
    AcceptUpTo(**listener, count, &accepted);
    server_side = PeerOf(**connection, accepted);
  }
  ASSERT_NE(server_side, nullptr);
  ASSERT_TRUE(WriteTo(**connection, "after the server's closes", 1024).ok());
  EXPECT_EQ(
      std::string(reinterpret_cast<char*>(server_side->buffer()) + 1024, 25),
      "after the server's closes");
  const PreconnectStats stats = client->preconnect_stats();
  EXPECT_GE(stats.discarded, 1u);
  EXPECT_FALSE(stats.last_discard_reason.empty());
}

// The server application goes away (its session, QPs and channel with
// it). With the watch off, only the probe stands between the client and
// the dead pairs: it must catch them.
TEST_F(PreconnectRdmaTest, TheProbeCatchesAServerThatWentAway) {
  b_.options.peer_watch_interval = absl::ZeroDuration();
  b_.swiftd.reset();
  auto restarted = SwiftdServer::Start(b_.options);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  b_.swiftd = *std::move(restarted);

  auto server = SessionOn(a_);
  auto client = ClientOn(b_);
  ASSERT_TRUE(server && client);
  {
    auto listener = server->Listen("kv", 8);
    ASSERT_TRUE(listener.ok()) << listener.status();
    ASSERT_EQ(*client->Prewarm(a_.peer_address(), "kv", 3), 3);
  }
  server.reset();  // The application exits.

  auto connection = client->Connect(a_.peer_address(), "kv");
  EXPECT_FALSE(connection.ok()) << "a dead pair was handed out";
  EXPECT_TRUE(absl::IsNotFound(connection.status())) << connection.status();
  const PreconnectStats stats = client->preconnect_stats();
  EXPECT_EQ(stats.hits, 0u);
  EXPECT_EQ(stats.discarded, 3u);
  EXPECT_TRUE(absl::StrContains(stats.last_discard_reason, "probe"))
      << stats.last_discard_reason;
}

// swiftd A restarts under pooled pairs: swiftd B's watch learns of it, the
// pairs are dropped, and Connect() says clearly that the service is not
// there (nobody listens on the new swiftd yet).
TEST_F(PreconnectRdmaTest, PairsOfARestartedPeerAreNeverHandedOut) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_);
  auto client = ClientOn(b_);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("kv", 8);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_EQ(*client->Prewarm(a_.peer_address(), "kv", 2), 2);

  a_.swiftd.reset();
  auto restarted = SwiftdServer::Start(a_.options);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  a_.swiftd = *std::move(restarted);
  ASSERT_TRUE(::swift::testing::Eventually([&] {
    return client->preconnect_stats().discarded >= 2;
  })) << client->preconnect_stats().last_discard_reason;
  // Whichever swiftd B learns first: the restart (its watch), or that the
  // application's connections closed when swiftd A stopped.
  const std::string reason = client->preconnect_stats().last_discard_reason;
  EXPECT_TRUE(absl::StrContains(reason, "restarted") ||
              absl::StrContains(reason, "closed the connection"))
      << reason;

  // Even before swiftd B's watch notices the restart: the dial to A's old
  // link port is refused, and B asks the new A (it never saw the call).
  auto connection = client->Connect(a_.peer_address(), "kv");
  EXPECT_FALSE(connection.ok());
  EXPECT_TRUE(absl::IsNotFound(connection.status())) << connection.status();
  EXPECT_EQ(client->preconnect_stats().hits, 0u);
}

// Many threads connect and close at once, faster than the pool refills:
// the pool never holds more than its target, every connect works, and
// nothing is left once the sessions are gone.
TEST_F(PreconnectRdmaTest, PoolsStayBoundedUnderAStorm) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_, 4, 32);
  auto client = ClientOn(b_);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("kv", 32);
  ASSERT_TRUE(listener.ok()) << listener.status();
  std::atomic<bool> serving{true};
  std::thread acceptor([&] {
    std::vector<std::unique_ptr<Connection>> held;
    while (serving.load()) {
      auto accepted = (*listener)->Accept(absl::Milliseconds(100));
      if (accepted.ok()) {
        held.push_back(*std::move(accepted));
      }
      held.erase(std::remove_if(held.begin(), held.end(),
                                [](const auto& c) { return c->peer_closed(); }),
                 held.end());
    }
  });
  constexpr int kTarget = 8;
  ASSERT_EQ(*client->Prewarm(a_.peer_address(), "kv", kTarget), kTarget);
  std::atomic<int> failures{0};
  std::atomic<int> from_pool{0};
  std::atomic<int> most_ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto connection = client->Connect(a_.peer_address(), "kv");
        if (!connection.ok()) {
          ++failures;
          continue;
        }
        from_pool += (*connection)->connect_steps().preconnected ? 1 : 0;
        int ready = client->preconnect_stats().ready;
        int seen = most_ready.load();
        while (ready > seen && !most_ready.compare_exchange_weak(seen, ready)) {
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(from_pool.load(), 0);
  EXPECT_LE(most_ready.load(), kTarget);
  EXPECT_LE(client->preconnect_stats().ready, kTarget);
  client.reset();
  EXPECT_TRUE(NothingLeft());
  serving = false;
  acceptor.join();
}

}  // namespace
}  // namespace swift
