// Host tests for PeerLinkServer's bounds (issue 10 finding 1): the link's
// reads had no deadline, so a silent connection held a thread for ever;
// and connections had no cap. Loopback only; timeouts shortened.
#include "daemon/broker/peer_link_server.h"

#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/tcp_frame.h"
#include "common/testing/eventually.h"
#include "daemon/broker/peer_handler.h"
#include "daemon/broker/service_registry.h"
#include "daemon/broker/test_peer.h"
#include "gtest/gtest.h"
#include "proto/peer.pb.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;

// A request the handler answers at once (an unknown connection's close).
std::string CloseRequest() {
  peer::v1::LinkRequest request;
  request.mutable_close()->set_server_connection_id(12345);
  return request.SerializeAsString();
}

class PeerLinkServerTest : public ::testing::Test {
 protected:
  void Start(const PeerLinkLimits& limits) {
    absl::StatusOr<std::unique_ptr<PeerLinkServer>> server =
        PeerLinkServer::Start(HostPort{"127.0.0.1", 0}, &handler_, gate_.get(),
                              limits);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = HostPort{"127.0.0.1", server_->port()};
  }

  // A connection; its reads give up after 5 s.
  UniqueFd Connect() {
    absl::StatusOr<UniqueFd> fd = ConnectTcp(address_);
    EXPECT_TRUE(fd.ok()) << fd.status();
    if (!fd.ok()) return UniqueFd();
    EXPECT_TRUE(SetIoTimeout(fd->get(), absl::Seconds(5)).ok());
    return *std::move(fd);
  }

  // One request answered on `fd` (any answer: the transport works).
  static absl::StatusOr<peer::v1::LinkResponse> Call(const UniqueFd& fd) {
    if (absl::Status sent = SendFrame(fd.get(), CloseRequest()); !sent.ok()) {
      return sent;
    }
    absl::StatusOr<std::string> frame = RecvFrame(fd.get());
    if (!frame.ok()) {
      return frame.status();
    }
    peer::v1::LinkResponse response;
    if (!response.ParseFromString(*frame)) {
      return absl::InternalError("malformed response");
    }
    return response;
  }

  // Waits for the server to close `fd`; how long that took.
  static absl::Duration TimeToClose(const UniqueFd& fd) {
    const absl::Time start = absl::Now();
    char byte;
    EXPECT_EQ(recv(fd.get(), &byte, 1, 0), 0);  // EOF, not the 5 s timeout.
    return absl::Now() - start;
  }

  ServiceRegistry registry_;
  std::unique_ptr<PeerGate> gate_ = TestPeer::InsecureLoopbackGate();
  PeerHandler handler_{5, "127.0.0.1:1", {}, &registry_};
  std::unique_ptr<PeerLinkServer> server_;
  HostPort address_;
};

TEST_F(PeerLinkServerTest, ClosesAConnectionThatSendsNothing) {
  PeerLinkLimits limits;
  limits.hello_timeout = absl::Milliseconds(300);
  Start(limits);
  UniqueFd silent = Connect();
  ASSERT_TRUE(Eventually([&] { return server_->connection_count() == 1; }));
  EXPECT_LT(TimeToClose(silent), absl::Seconds(3));
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
}

TEST_F(PeerLinkServerTest, ClosesAnIdleConnectionAfterTheIdleTimeout) {
  PeerLinkLimits limits;
  limits.hello_timeout = absl::Milliseconds(300);
  limits.idle_timeout = absl::Milliseconds(900);
  Start(limits);
  UniqueFd fd = Connect();
  // Busy past the hello timeout: the idle timeout applies between frames.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Call(fd).ok());
    absl::SleepFor(absl::Milliseconds(400));
  }
  const absl::Duration idle = TimeToClose(fd);
  EXPECT_GT(idle, absl::Milliseconds(300));
  EXPECT_LT(idle, absl::Seconds(3));
}

// A frame begun and never finished (a trickle) is not waited on for ever.
TEST_F(PeerLinkServerTest, ClosesAConnectionThatStallsMidFrame) {
  PeerLinkLimits limits;
  limits.io_timeout = absl::Milliseconds(300);
  Start(limits);
  UniqueFd fd = Connect();
  const char partial[] = {0, 0};  // Half a length.
  ASSERT_EQ(send(fd.get(), partial, sizeof(partial), 0), 2);
  EXPECT_LT(TimeToClose(fd), absl::Seconds(3));
}

// N+3 connections against a cap of N: N served, 3 answered with
// RESOURCE_EXHAUSTED naming the flag, then closed.
TEST_F(PeerLinkServerTest, RefusesConnectionsOverTheCapNamingTheFlag) {
  constexpr int kCap = 4;
  PeerLinkLimits limits;
  limits.max_connections = kCap;
  Start(limits);
  std::vector<UniqueFd> served;
  for (int i = 0; i < kCap; ++i) {
    served.push_back(Connect());
    absl::StatusOr<peer::v1::LinkResponse> answer = Call(served.back());
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_FALSE(absl::IsResourceExhausted(DecodeStatus(*answer)));
  }
  for (int i = 0; i < 3; ++i) {
    UniqueFd refused = Connect();
    absl::StatusOr<peer::v1::LinkResponse> answer = Call(refused);
    ASSERT_TRUE(answer.ok()) << answer.status();
    const absl::Status status = DecodeStatus(*answer);
    EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
    EXPECT_TRUE(
        absl::StrContains(status.message(), "--max_peer_link_connections"))
        << status;
  }
  EXPECT_EQ(server_->connection_count(), kCap);
  EXPECT_EQ(server_->counters().refused_at_cap, 3u);
}

}  // namespace
}  // namespace swift
