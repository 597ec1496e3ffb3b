// The cluster directory across two real kernels (issue 14): guest A runs
// etcd, swiftd "guest-a" and this test; guest B runs swiftd "guest-b" and
// an echo service (tests/directory_guest_service.cc; the contract is
// tests/two_guest_directory.h). Run by tools/test as
//
//   tools/rxe-vm/run --guests 2 --guest-b 'BIN/tests/directory_guest_service'
//       -- tools/testing/guest_tests.sh --no-selfcheck BIN
//       tests/directory_guests_rdma_test
//
// The tests build on each other, in order: a client of A finds the service
// by its name alone and data moves both ways; with etcd stopped, the
// connection and a cached lookup keep working while a new lookup fails
// naming the directory, and all recovers when etcd returns; B's guest is
// powered off, A's directory drops it within about the TTL, connects to
// it fail with the reason and the pools stay whole.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/command_testing.h"
#include "common/testing/rdma_test_env.h"
#include "daemon/swiftd_server.h"
#include "gtest/gtest.h"
#include "swift/session.h"
#include "tests/etcd_server.h"
#include "tests/two_guest_directory.h"
#include "tests/two_swiftd_fixture.h"

namespace swift {
namespace {

using ::swift::testing::AwaitMessage;
using ::swift::testing::EnvOr;
using ::swift::testing::EtcdServer;
using ::swift::testing::kGuestHostA;
using ::swift::testing::kGuestHostB;
using ::swift::testing::kGuestService;
using ::swift::testing::Message;
using ::swift::testing::RdmaRequired;
using ::swift::testing::ReplyOffset;
using ::swift::testing::RequestOffset;
using ::swift::testing::StagingOffset;
using ::swift::testing::TempDir;
using ::swift::testing::WriteTo;

// Guest A's world, shared by the tests in order.
struct GuestA {
  TempDir dir;
  std::unique_ptr<EtcdServer> etcd;
  std::unique_ptr<SwiftdServer> swiftd;
  std::unique_ptr<Session> session;
  // connections[i] is slot i of the echo protocol.
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<uint8_t> rounds;
};
GuestA* guest = nullptr;

bool HostListed(const std::string& host, const std::string& service = "") {
  for (const DirectoryHost& listed : guest->swiftd->directory()->List()) {
    if (listed.host != host) continue;
    if (service.empty()) return true;
    for (const std::string& offered : listed.services) {
      if (offered == service) return true;
    }
  }
  return false;
}

// Polls `done` every 10 ms; the time it took, or an infinite duration
// after `timeout`.
template <typename Predicate>
absl::Duration WaitFor(Predicate done, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  while (!done()) {
    if (absl::Now() - start > timeout) return absl::InfiniteDuration();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::Now() - start;
}

// One echo round on slot `slot`: A's request lands in B's buffer, B's
// reversed answer in A's; both checked byte for byte (B checks the
// request, A the answer).
void RoundTrip(size_t slot) {
  Connection& connection = *guest->connections.at(slot);
  const uint8_t round = ++guest->rounds.at(slot);
  const std::string request = Message(slot, round);
  ASSERT_TRUE(
      WriteTo(connection, request, RequestOffset(slot), StagingOffset(slot))
          .ok());
  absl::StatusOr<std::string> reply = AwaitMessage(
      connection.buffer(), ReplyOffset(slot), round, absl::Seconds(10));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, testing::Reply(request));
}

void ConnectSlot() {
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      guest->session->Connect(kGuestService, absl::Seconds(10));
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ((*connection)->host(), kGuestHostB);
  guest->connections.push_back(*std::move(connection));
  guest->rounds.push_back(0);
}

bool PoolIsWhole() {
  const absl::Duration took = WaitFor(
      [] {
        const PoolStats stats = guest->session->pool_stats();
        return stats.created - stats.destroyed ==
               static_cast<uint64_t>(stats.ready + stats.resting);
      },
      absl::Seconds(5));
  return took != absl::InfiniteDuration();
}

class TwoGuestDirectoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (EnvOr("RXE_GUESTS", "") != "2" || EnvOr("RXE_GUEST", "") != "a") {
      return;
    }
    guest = new GuestA;
    const std::string ip = EnvOr("RXE_IP", "");
    absl::StatusOr<std::unique_ptr<EtcdServer>> etcd = EtcdServer::Create(
        guest->dir.path(), ip, absl::Seconds(60), testing::kGuestEtcdPort);
    if (!etcd.ok()) {
      setup_error_ = new std::string(etcd.status().ToString());
      return;
    }
    guest->etcd = *std::move(etcd);
    absl::StatusOr<std::unique_ptr<SwiftdServer>> swiftd = SwiftdServer::Start(
        testing::GuestSwiftdOptions(guest->dir.path(), kGuestHostA));
    if (!swiftd.ok()) {
      setup_error_ = new std::string(swiftd.status().ToString());
      return;
    }
    guest->swiftd = *std::move(swiftd);
    SessionOptions options;
    options.socket_path = guest->dir.path() + "/swiftd.sock";
    options.buffer_bytes = testing::kGuestBufferBytes;
    options.pool_low = 2;
    options.pool_high = 4;
    absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(options);
    if (!session.ok()) {
      setup_error_ = new std::string(session.status().ToString());
      return;
    }
    guest->session = *std::move(session);
  }

  // In the order a host would stop: the application, swiftd, etcd.
  static void TearDownTestSuite() {
    delete guest;
    guest = nullptr;
  }

  void SetUp() override {
    if (guest == nullptr) {
      if (RdmaRequired()) {
        FAIL() << "needs guest A of tools/rxe-vm/run --guests 2 (with "
                  "tests/directory_guest_service in guest B)";
      }
      GTEST_SKIP() << "needs the two-guest Soft-RoCE harness";
    }
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  }

  static std::string* setup_error_;
};
std::string* TwoGuestDirectoryTest::setup_error_ = nullptr;

TEST_F(TwoGuestDirectoryTest, FindsTheServiceByNameAloneAndMovesDataBothWays) {
  // B registers once A's etcd is up; its service follows its Listen().
  const absl::Duration seen =
      WaitFor([] { return HostListed(kGuestHostB, kGuestService); },
              absl::Seconds(120));
  ASSERT_NE(seen, absl::InfiniteDuration())
      << "guest-b's service never appeared in A's directory";
  // A's own record comes through the same watch, in no set order with
  // B's (CI saw B's 20 ms ahead of A's own).
  EXPECT_NE(WaitFor([] { return HostListed(kGuestHostA); }, absl::Seconds(30)),
            absl::InfiniteDuration())
      << "guest-a's own record never appeared in its directory";
  const Directory::State state = guest->swiftd->directory()->state();
  EXPECT_TRUE(state.reachable) << state.last_error;
  EXPECT_TRUE(state.registered) << state.last_error;

  ConnectSlot();
  ASSERT_FALSE(HasFatalFailure());
  for (int i = 0; i < 3; ++i) {
    RoundTrip(0);
    ASSERT_FALSE(HasFatalFailure());
  }
  // swiftd A learnt B's address from the directory, not from --peers.
  auto peers = guest->swiftd->broker()->Connections();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].peer, absl::StrCat(EnvOr("RXE_PEER_IP", ""), ":",
                                        testing::kGuestPeerPort));
}

TEST_F(TwoGuestDirectoryTest, WithoutEtcdCachedEntriesServeAndNewLookupsFail) {
  ASSERT_EQ(guest->connections.size(), 1u) << "the first test failed";
  guest->etcd->Stop();
  const absl::Duration noticed =
      WaitFor([] { return !guest->swiftd->directory()->state().reachable; },
              absl::Seconds(30));
  ASSERT_NE(noticed, absl::InfiniteDuration());
  std::printf("measured: A noticed etcd gone after %s\n",
              absl::FormatDuration(noticed).c_str());

  // The connection made before keeps moving data.
  RoundTrip(0);
  ASSERT_FALSE(HasFatalFailure());
  // A connect by name alone is served from the cached directory.
  ConnectSlot();
  ASSERT_FALSE(HasFatalFailure());
  RoundTrip(1);
  ASSERT_FALSE(HasFatalFailure());
  // What the cache does not hold fails, naming the directory.
  absl::StatusOr<std::unique_ptr<Connection>> unknown =
      guest->session->Connect("no-such-service", absl::Seconds(10));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnavailable)
      << unknown.status();
  EXPECT_TRUE(
      absl::StrContains(unknown.status().message(), guest->etcd->endpoint()))
      << unknown.status();
  absl::StatusOr<std::unique_ptr<Connection>> unknown_host =
      guest->session->Connect("guest-z", kGuestService, absl::Seconds(10));
  ASSERT_FALSE(unknown_host.ok());
  EXPECT_EQ(unknown_host.status().code(), absl::StatusCode::kUnavailable)
      << unknown_host.status();

  ASSERT_TRUE(guest->etcd->Start().ok()) << guest->etcd->LogTail();
  const absl::Duration recovered = WaitFor(
      [] {
        const Directory::State state = guest->swiftd->directory()->state();
        return state.reachable && state.registered;
      },
      absl::Seconds(60));
  ASSERT_NE(recovered, absl::InfiniteDuration());
  std::printf("measured: A reachable and registered %s after etcd returned\n",
              absl::FormatDuration(recovered).c_str());
  ASSERT_NE(WaitFor([] { return HostListed(kGuestHostB, kGuestService); },
                    absl::Seconds(30)),
            absl::InfiniteDuration());
  // Now the directory answers for itself: no such service.
  unknown = guest->session->Connect("no-such-service", absl::Seconds(10));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound)
      << unknown.status();
  // The outage ended no connection.
  RoundTrip(0);
  RoundTrip(1);
}

TEST_F(TwoGuestDirectoryTest, AKilledGuestLeavesTheDirectoryAndConnectsSayWhy) {
  ASSERT_EQ(guest->connections.size(), 2u) << "an earlier test failed";
  ASSERT_TRUE(HostListed(kGuestHostB));
  ASSERT_EQ(std::system("tools/rxe-vm/kill-guest b"), 0);
  const absl::Duration dropped =
      WaitFor([] { return !HostListed(kGuestHostB); }, absl::Seconds(30));
  ASSERT_NE(dropped, absl::InfiniteDuration())
      << "guest-b still listed 30 s after its guest died";
  std::printf(
      "measured: guest-b left A's directory %s after its guest died "
      "(TTL %s)\n",
      absl::FormatDuration(dropped).c_str(),
      absl::FormatDuration(testing::kGuestDirectoryTtl).c_str());

  // By name alone, and by host name: not found, and why.
  absl::StatusOr<std::unique_ptr<Connection>> by_service =
      guest->session->Connect(kGuestService, absl::Seconds(10));
  ASSERT_FALSE(by_service.ok());
  EXPECT_EQ(by_service.status().code(), absl::StatusCode::kNotFound)
      << by_service.status();
  EXPECT_TRUE(absl::StrContains(by_service.status().message(), "lease"))
      << by_service.status();
  absl::StatusOr<std::unique_ptr<Connection>> by_host =
      guest->session->Connect(kGuestHostB, kGuestService, absl::Seconds(10));
  ASSERT_FALSE(by_host.ok());
  EXPECT_EQ(by_host.status().code(), absl::StatusCode::kNotFound)
      << by_host.status();
  EXPECT_TRUE(
      absl::StrContains(by_host.status().message(), "left the directory"))
      << by_host.status();

  // The connections to the dead host close cleanly; every QP of A's pool
  // is back or destroyed, and swiftd A holds no connection.
  for (std::unique_ptr<Connection>& connection : guest->connections) {
    (void)connection->Close();
  }
  guest->connections.clear();
  EXPECT_TRUE(PoolIsWhole());
  EXPECT_TRUE(guest->swiftd->broker()->Connections().empty());
  // A stays registered, alone.
  EXPECT_TRUE(HostListed(kGuestHostA));
  EXPECT_TRUE(guest->swiftd->directory()->state().registered);
}

}  // namespace
}  // namespace swift
