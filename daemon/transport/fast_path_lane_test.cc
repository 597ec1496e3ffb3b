// Host tests for the call lane on FastPathServer's side
// (common/call_lane.h), driven by a hand-written client that plays each
// step of the protocol itself: calls and answers through the lane while
// swiftd watches, the doorbell, a stale doorbell, a lane declined, and a
// client that breaks the lane's rules.
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "common/call_lane.h"
#include "common/seqpacket_socket.h"
#include "common/testing/eventually.h"
#include "common/version.h"
#include "daemon/transport/fast_path_server.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;

// How long swiftd watches for a call after an answer, in the tests that
// need it watching throughout: each call there takes milliseconds, and a
// connection's thread ends (at the test's end) only after its spin.
constexpr absl::Duration kWatchThroughout = absl::Seconds(1);

v1::FastRequest Ping(uint64_t call_id, uint64_t sequence) {
  v1::FastRequest ping;
  ping.set_call_id(call_id);
  ping.mutable_ping()->set_sequence(sequence);
  return ping;
}

// Whether a message waits on the socket (without taking it).
bool SocketHasMessage(const SeqpacketSocket& socket) {
  char byte;
  return recv(socket.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
}

// The next answer on the socket, parsed.
v1::FastResponse ReceiveAnswer(SeqpacketSocket& socket) {
  absl::StatusOr<SeqpacketSocket::Message> message = socket.Receive();
  EXPECT_TRUE(message.ok()) << message.status();
  v1::FastResponse response;
  EXPECT_TRUE(message.ok() && response.ParseFromString(message->data));
  return response;
}

// The answer to `call_id` once swiftd posted it in the lane (nullopt if it
// does not within Eventually's limit, or is not that call's answer).
std::optional<v1::FastResponse> AnswerInLane(const CallLane& lane,
                                             uint64_t call_id) {
  std::string answer;
  v1::FastResponse response;
  if (!Eventually([&] {
        return lane.TakeAnswer(call_id, &answer) == CallLane::Answer::kHere;
      }) ||
      !response.ParseFromString(answer) || response.call_id() != call_id) {
    return std::nullopt;
  }
  return response;
}

class FastPathLaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/swift-fast-lane-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/fast.sock";
  }
  void TearDown() override {
    server_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  // A server whose handler answers each ping with its sequence (doubled)
  // and counts the calls; it watches for the next call `answer_spin`.
  void StartServer(absl::Duration answer_spin) {
    FastPathServer::Handlers handlers;
    handlers.call = [this](const FastPathCaller&,
                           const v1::FastRequest& request) {
      ++calls_;
      v1::FastResponse response;
      response.mutable_ping()->set_sequence(2 * request.ping().sequence());
      return response;
    };
    FastPathLimits limits;
    limits.answer_spin = answer_spin;
    absl::StatusOr<std::unique_ptr<FastPathServer>> server =
        FastPathServer::Start(path_, 0600, std::move(handlers), limits);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // Connects and says hello, asking for a lane when `want_lane`; the lane
  // swiftd sent, if any, goes to `*lane`; its fd to `*lane_fd` if set.
  SeqpacketSocket Greet(bool want_lane, std::unique_ptr<CallLane>* lane,
                        UniqueFd* lane_fd = nullptr) {
    absl::StatusOr<SeqpacketSocket> socket = SeqpacketSocket::Connect(path_);
    EXPECT_TRUE(socket.ok()) << socket.status();
    v1::FastRequest hello;
    hello.mutable_hello()->set_api_version(kControlApiVersion);
    hello.mutable_hello()->set_client_name("fast_path_lane_test");
    hello.mutable_hello()->set_lane(want_lane);
    EXPECT_TRUE(socket->Send(hello.SerializeAsString()).ok());
    absl::StatusOr<SeqpacketSocket::Message> reply = socket->Receive();
    EXPECT_TRUE(reply.ok()) << reply.status();
    v1::FastResponse response;
    EXPECT_TRUE(response.ParseFromString(reply->data));
    EXPECT_EQ(response.code(), 0) << response.message();
    EXPECT_EQ(response.hello().lane(), reply->fds.size() == 1);
    if (response.hello().lane() && reply->fds.size() == 1) {
      if (lane_fd != nullptr) {
        *lane_fd = UniqueFd(dup(reply->fds[0].get()));
      }
      absl::StatusOr<CallLane> mapped = CallLane::Map(std::move(reply->fds[0]));
      EXPECT_TRUE(mapped.ok()) << mapped.status();
      *lane = std::make_unique<CallLane>(*std::move(mapped));
    }
    return *std::move(socket);
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<FastPathServer> server_;
  std::atomic<int> calls_{0};
};

TEST_F(FastPathLaneTest, CallsPostedWhileSwiftdWatchesAreAnsweredInTheLane) {
  StartServer(kWatchThroughout);
  std::unique_ptr<CallLane> lane;
  SeqpacketSocket socket = Greet(/*want_lane=*/true, &lane);
  ASSERT_NE(lane, nullptr);
  lane->set_client_watching(true);
  for (uint64_t id = 2; id < 202; ++id) {
    ASSERT_TRUE(Eventually([&] { return lane->server_watching(); }));
    ASSERT_TRUE(lane->PostRequest(id, Ping(id, id).SerializeAsString()));
    std::optional<v1::FastResponse> response = AnswerInLane(*lane, id);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->ping().sequence(), 2 * id);
  }
  EXPECT_EQ(calls_.load(), 200);
  // Not one answer (nor doorbell) went on the socket.
  EXPECT_FALSE(SocketHasMessage(socket));
}

TEST_F(FastPathLaneTest, ACallMarkedOnTheSocketIsAnsweredInAWatchedLane) {
  StartServer(kWatchThroughout);
  std::unique_ptr<CallLane> lane;
  SeqpacketSocket socket = Greet(/*want_lane=*/true, &lane);
  ASSERT_NE(lane, nullptr);
  lane->set_client_watching(true);
  for (uint64_t id = 5; id < 25; ++id) {
    // swiftd watches the lane only (for a second): the mark sends it to the
    // socket, and its answer comes in the lane the client watches.
    ASSERT_TRUE(Eventually([&] { return lane->server_watching(); }));
    lane->PostRequestOnSocket(id);
    ASSERT_TRUE(socket.Send(Ping(id, 21).SerializeAsString()).ok());
    std::optional<v1::FastResponse> response = AnswerInLane(*lane, id);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->ping().sequence(), 42u);
  }
  EXPECT_FALSE(SocketHasMessage(socket));
  EXPECT_EQ(calls_.load(), 20);
}

TEST_F(FastPathLaneTest, AnUnmarkedCallOnTheSocketWaitsOnlyForTheSpinsEnd) {
  StartServer(absl::Milliseconds(300));
  std::unique_ptr<CallLane> lane;
  SeqpacketSocket socket = Greet(/*want_lane=*/true, &lane);
  ASSERT_NE(lane, nullptr);
  ASSERT_TRUE(Eventually([&] { return lane->server_watching(); }));
  // A client that breaks the rule (no mark) is served once swiftd stops
  // watching, on the socket.
  ASSERT_TRUE(socket.Send(Ping(3, 8).SerializeAsString()).ok());
  v1::FastResponse response = ReceiveAnswer(socket);
  EXPECT_EQ(response.call_id(), 3u);
  EXPECT_EQ(response.ping().sequence(), 16u);
}

TEST_F(FastPathLaneTest, ADoorbellFetchesACallAndAStaleOneIsNotAnswered) {
  // swiftd watches 1 us after an answer, then sleeps in recvmsg.
  StartServer(absl::Microseconds(1));
  std::unique_ptr<CallLane> lane;
  SeqpacketSocket socket = Greet(/*want_lane=*/true, &lane);
  ASSERT_NE(lane, nullptr);
  ASSERT_TRUE(Eventually([&] { return !lane->server_watching(); }));
  absl::SleepFor(absl::Milliseconds(20));  // Past the last look.
  // Posted as swiftd stopped watching: the doorbell fetches it, and the
  // answer (to a client not watching) comes on the socket, marked in the
  // lane as such.
  ASSERT_TRUE(lane->PostRequest(7, Ping(7, 4).SerializeAsString()));
  v1::FastRequest doorbell;
  doorbell.set_call_id(7);
  doorbell.set_lane_doorbell(true);
  ASSERT_TRUE(socket.Send(doorbell.SerializeAsString()).ok());
  v1::FastResponse response = ReceiveAnswer(socket);
  EXPECT_EQ(response.call_id(), 7u);
  EXPECT_EQ(response.ping().sequence(), 8u);
  std::string answer;
  EXPECT_TRUE(Eventually([&] {  // Marked once sent.
    return lane->TakeAnswer(7, &answer) == CallLane::Answer::kOnSocket;
  }));

  // The same doorbell again finds nothing new: no answer. The next call's
  // answer is the next message.
  ASSERT_TRUE(socket.Send(doorbell.SerializeAsString()).ok());
  ASSERT_TRUE(socket.Send(Ping(8, 5).SerializeAsString()).ok());
  response = ReceiveAnswer(socket);
  EXPECT_EQ(response.call_id(), 8u);
  EXPECT_EQ(response.ping().sequence(), 10u);
  EXPECT_EQ(calls_.load(), 2);
}

TEST_F(FastPathLaneTest, NoLaneWhenSwiftdDoesNotWatchOrNoneIsAskedFor) {
  StartServer(absl::ZeroDuration());
  std::unique_ptr<CallLane> lane;
  SeqpacketSocket socket = Greet(/*want_lane=*/true, &lane);
  EXPECT_EQ(lane, nullptr);
  ASSERT_TRUE(socket.Send(Ping(2, 1).SerializeAsString()).ok());
  EXPECT_EQ(ReceiveAnswer(socket).ping().sequence(), 2u);

  // A doorbell on a connection without a lane is refused, clearly.
  v1::FastRequest doorbell;
  doorbell.set_call_id(3);
  doorbell.set_lane_doorbell(true);
  ASSERT_TRUE(socket.Send(doorbell.SerializeAsString()).ok());
  v1::FastResponse refused = ReceiveAnswer(socket);
  EXPECT_EQ(refused.call_id(), 3u);
  EXPECT_EQ(DecodeStatus(refused).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("without a call lane"), std::string::npos)
      << refused.message();
}

TEST_F(FastPathLaneTest, NoLaneForAClientThatDoesNotAsk) {
  StartServer(kWatchThroughout);
  std::unique_ptr<CallLane> lane;
  SeqpacketSocket socket = Greet(/*want_lane=*/false, &lane);
  EXPECT_EQ(lane, nullptr);
  ASSERT_TRUE(socket.Send(Ping(2, 3).SerializeAsString()).ok());
  EXPECT_EQ(ReceiveAnswer(socket).ping().sequence(), 6u);
}

TEST_F(FastPathLaneTest, ACallLargerThanTheLaneClosesTheConnection) {
  StartServer(kWatchThroughout);
  std::unique_ptr<CallLane> lane;
  UniqueFd lane_fd;
  SeqpacketSocket socket = Greet(/*want_lane=*/true, &lane, &lane_fd);
  ASSERT_NE(lane, nullptr);
  ASSERT_TRUE(Eventually([&] { return lane->server_watching(); }));
  // The request slot's header as a hostile client writes it: call id at
  // byte 128, size at 136 (CallLane::Layout), the size past the slot.
  void* raw = mmap(nullptr, CallLane::kBytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED, lane_fd.get(), 0);
  ASSERT_NE(raw, MAP_FAILED);
  const uint32_t size = CallLane::kSlotBytes + 1;
  const uint64_t id = 9;
  std::memcpy(static_cast<char*>(raw) + 136, &size, sizeof(size));
  std::memcpy(static_cast<char*>(raw) + 128, &id, sizeof(id));
  munmap(raw, CallLane::kBytes);
  absl::StatusOr<SeqpacketSocket::Message> end = socket.Receive();
  EXPECT_EQ(end.status().code(), absl::StatusCode::kUnavailable)
      << end.status();
  EXPECT_EQ(calls_.load(), 0);
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
}

}  // namespace
}  // namespace swift
