// Host tests for RemoteCloser against a TestPeer on localhost (with its
// lean link): a close that comes while the closer is idle goes at once,
// and a stream of closes is told in gathered batches, every one heard.
#include "daemon/broker/remote_closer.h"

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "common/verbs/endpoint.h"
#include "daemon/broker/fake_application.h"
#include "daemon/broker/peer_directory.h"
#include "daemon/broker/test_peer.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

constexpr uint64_t kIncarnation = 21;

class RemoteCloserTest : public ::testing::Test {
 protected:
  // A connection the peer's application accepted for us (the link's
  // caller is 127.0.0.1), and its close.
  RemoteClose Accepted() {
    absl::StatusOr<ServiceRegistry::Accepted> accepted =
        remote_.registry().Accept("echo", verbs::QpEndpoint(),
                                  absl::Now() + absl::Seconds(5), "127.0.0.1");
    EXPECT_TRUE(accepted.ok()) << accepted.status();
    RemoteClose close;
    close.peer = remote_.address();
    close.peer_incarnation = kIncarnation;
    close.connection_id = accepted.ok() ? accepted->connection_id : 0;
    close.server_connection_id = close.connection_id;
    return close;
  }

  TestPeer remote_{kIncarnation, /*link=*/true};
  PeerDirectory directory_{1, "127.0.0.1:1", {{"b", remote_.address()}}};
};

TEST_F(RemoteCloserTest, AStreamOfClosesIsToldInGatheredBatches) {
  FakeApplication::Options options;
  options.endpoints = 21;
  FakeApplication app(&remote_.registry(), options);
  std::vector<RemoteClose> closes;
  for (int i = 0; i < 21; ++i) closes.push_back(Accepted());
  // Gathering long enough that the test's burst surely falls in it.
  RemoteCloser closer(&directory_, absl::Seconds(5), absl::Milliseconds(300));

  // Idle: the first close goes at once, alone.
  closer.Enqueue(closes[0]);
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(closer.batches(), 1u);
  // Those that follow within the gathering go together.
  for (int i = 1; i < 21; ++i) closer.Enqueue(closes[i]);
  ASSERT_TRUE(app.WaitForCloses(21));
  EXPECT_EQ(closer.batches(), 2u);
  std::vector<uint64_t> heard = app.closed_connections();
  std::vector<uint64_t> expected;
  for (const RemoteClose& close : closes) {
    expected.push_back(close.server_connection_id);
  }
  EXPECT_EQ(heard, expected);
  EXPECT_EQ(closer.undelivered(), 0u);
  EXPECT_EQ(remote_.registry().Stats()[0].connections, 0);
}

TEST_F(RemoteCloserTest, AStopTellsWhatIsGatheringWithoutWaitingItOut) {
  FakeApplication::Options options;
  options.endpoints = 3;
  FakeApplication app(&remote_.registry(), options);
  std::vector<RemoteClose> closes = {Accepted(), Accepted(), Accepted()};
  {
    // Gathering for ever: a stop that waited it out would never end.
    RemoteCloser closer(&directory_, absl::Seconds(5),
                        absl::InfiniteDuration());
    closer.Enqueue(closes[0]);
    ASSERT_TRUE(app.WaitForCloses(1));
    closer.Enqueue(closes[1]);
    closer.Enqueue(closes[2]);
  }  // Stops: the gathered closes go now.
  EXPECT_TRUE(app.WaitForCloses(3));
  EXPECT_EQ(app.closed_connections().size(), 3u);
}

}  // namespace
}  // namespace swift
