// raw_verbs_connect's TCP framing and messages, over a real loopback socket.
#include "tools/bench/raw_verbs_connect_wire.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/unique_fd.h"

namespace swift::bench {
namespace {

TEST(HostPortTest, ParsesHostAndPort) {
  absl::StatusOr<HostPort> parsed = ParseHostPort("10.77.0.1:18515");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "10.77.0.1");
  EXPECT_EQ(parsed->port, 18515);
  EXPECT_FALSE(ParseHostPort("10.77.0.1").ok());
  EXPECT_FALSE(ParseHostPort(":80").ok());
  EXPECT_FALSE(ParseHostPort("h:65536").ok());
  EXPECT_FALSE(ParseHostPort("h:x").ok());
}

TEST(FrameTest, FramesCrossALoopbackConnectionIntact) {
  absl::StatusOr<UniqueFd> listener = ListenTcp({"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<uint16_t> port = LocalPort(listener->get());
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_NE(*port, 0);

  std::string big(3000, 'x');
  big[1234] = '\0';  // Binary-safe.
  std::thread server([&] {
    absl::StatusOr<UniqueFd> peer = AcceptTcp(listener->get());
    ASSERT_TRUE(peer.ok()) << peer.status();
    absl::StatusOr<std::string> first = RecvFrame(peer->get());
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(*first, "hello");
    absl::StatusOr<std::string> second = RecvFrame(peer->get());
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(*second, big);
    EXPECT_TRUE(SendFrame(peer->get(), "").ok());
  });
  absl::StatusOr<UniqueFd> client = ConnectTcp({"127.0.0.1", *port});
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(SendFrame(client->get(), "hello").ok());
  EXPECT_TRUE(SendFrame(client->get(), big).ok());
  absl::StatusOr<std::string> empty = RecvFrame(client->get());
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, "");
  server.join();
  // The server's end is closed now: the next read reports the peer gone.
  EXPECT_EQ(RecvFrame(client->get()).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(FrameTest, OversizedFrameIsRefusedAndSilentPeerTimesOut) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  UniqueFd a(fds[0]);
  UniqueFd b(fds[1]);
  ASSERT_TRUE(SendFrame(a.get(), std::string(100, 'y')).ok());
  EXPECT_EQ(RecvFrame(b.get(), 99).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A silent peer: the read gives up after the timeout.
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  UniqueFd quiet(fds[0]);
  UniqueFd waiting(fds[1]);
  ASSERT_TRUE(SetIoTimeout(waiting.get(), absl::Milliseconds(50)).ok());
  EXPECT_EQ(RecvFrame(waiting.get()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(FrameTest, ConnectToAClosedPortIsUnavailable) {
  absl::StatusOr<UniqueFd> listener = ListenTcp({"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok());
  const uint16_t port = *LocalPort(listener->get());
  listener->Reset();
  EXPECT_EQ(ConnectTcp({"127.0.0.1", port}).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(HelloTest, RoundTrips) {
  Hello hello;
  hello.seed = 0x0123456789abcdefull;
  hello.length = 4096;
  hello.endpoint.qpn = 0x11;
  hello.endpoint.psn = 0x222222;
  hello.endpoint.gid_index = 1;
  absl::StatusOr<Hello> decoded = DecodeHello(EncodeHello(hello));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->seed, hello.seed);
  EXPECT_EQ(decoded->length, hello.length);
  EXPECT_EQ(decoded->endpoint, hello.endpoint);
  EXPECT_FALSE(DecodeHello("RVC1short").ok());
  std::string wrong = EncodeHello(hello);
  wrong[0] = 'X';
  EXPECT_FALSE(DecodeHello(wrong).ok());
}

TEST(PatternTest, CheckFindsTheFirstDifferingByte) {
  std::vector<uint8_t> data(4096);
  FillPattern(data.data(), data.size(), 42);
  EXPECT_TRUE(CheckPattern(data.data(), data.size(), 42).ok());
  // Another seed is another pattern.
  EXPECT_EQ(CheckPattern(data.data(), data.size(), 43).code(),
            absl::StatusCode::kDataLoss);
  data[4000] ^= 1;
  absl::Status status = CheckPattern(data.data(), data.size(), 42);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("byte 4000"), absl::string_view::npos)
      << status;
}

}  // namespace
}  // namespace swift::bench
