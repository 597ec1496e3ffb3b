// FastPathClient against a fake swiftd on a temporary SOCK_SEQPACKET
// socket: call ids, swiftd's statuses, malformed answers, idle connection
// reuse and a swiftd that goes away. No device, no daemon.
#include "client/fast_path_client.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/testing/fake_swiftd.h"
#include "common/call_lane.h"
#include "common/seqpacket_socket.h"
#include "common/unique_fd.h"
#include "common/version.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"

namespace swift {
namespace {

v1::FastRequest Ping(uint64_t sequence) {
  v1::FastRequest request;
  request.mutable_ping()->set_sequence(sequence);
  return request;
}

TEST(FastPathClientTest, ConnectSaysHelloAndKeepsSwiftdsAnswer) {
  FakeSwiftd swiftd(&Answer);
  absl::StatusOr<std::unique_ptr<FastPathClient>> client =
      FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->hello().device(), "fake0");
  EXPECT_EQ(swiftd.accepted(), 1);
}

TEST(FastPathClientTest, NoSocketIsNotFound) {
  absl::StatusOr<std::unique_ptr<FastPathClient>> client =
      FastPathClient::Connect("/tmp/no-such-dir-for-swift/fast.sock", "test");
  EXPECT_EQ(client.status().code(), absl::StatusCode::kNotFound)
      << client.status();
}

TEST(FastPathClientTest, CallOnTurnsTheAnswersCodeIntoTheStatus) {
  auto [mine, theirs] = *SeqpacketSocket::Pair();
  std::thread refuser([&theirs] {
    absl::StatusOr<SeqpacketSocket::Message> message = theirs.Receive();
    v1::FastRequest request;
    ASSERT_TRUE(message.ok() && request.ParseFromString(message->data));
    v1::FastResponse response;
    response.set_call_id(request.call_id());
    response.set_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
    response.set_message("swiftd speaks API 9");
    ASSERT_TRUE(theirs.Send(response.SerializeAsString()).ok());
  });
  absl::StatusOr<v1::FastResponse> answer = CallOn(mine, Ping(1));
  refuser.join();
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(answer.status().message(), "swiftd speaks API 9");
}

TEST(FastPathClientTest, CallIdsIncreaseAndEachAnswerIsTheRightOne) {
  FakeSwiftd swiftd(&Answer);
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  for (uint64_t sequence = 10; sequence < 13; ++sequence) {
    absl::StatusOr<v1::FastResponse> response = (*client)->Call(Ping(sequence));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->ping().sequence(), sequence);
  }
  EXPECT_EQ(swiftd.call_ids(), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(FastPathClientTest, SwiftdsErrorBecomesTheStatus) {
  FakeSwiftd swiftd([](const v1::FastRequest& request) {
    v1::FastResponse response;
    response.set_call_id(request.call_id());
    response.set_code(static_cast<int>(absl::StatusCode::kNotFound));
    response.set_message("no service 'kv' on 10.0.0.1:7471");
    return std::optional<std::string>(response.SerializeAsString());
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<v1::FastResponse> response = (*client)->Call(Ping(1));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(response.status().message(), "no service 'kv' on 10.0.0.1:7471");
  // An error answer still leaves the connection usable.
  ASSERT_FALSE((*client)->Call(Ping(2)).ok());
  EXPECT_EQ(swiftd.accepted(), 1);
}

TEST(FastPathClientTest, AMalformedAnswerIsAClearErrorAndDropsTheConnection) {
  FakeSwiftd swiftd([](const v1::FastRequest& request) {
    return request.ping().sequence() == 1
               ? std::optional<std::string>("\xff\xff\xff not a message")
               : Answer(request);
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<v1::FastResponse> response = (*client)->Call(Ping(1));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(
      absl::StrContains(response.status().message(), "malformed response"))
      << response.status();
  // The next call goes on a new connection.
  EXPECT_TRUE((*client)->Call(Ping(2)).ok());
  EXPECT_EQ(swiftd.accepted(), 2);
}

TEST(FastPathClientTest, AnAnswerToAnotherCallIsAnError) {
  FakeSwiftd swiftd([](const v1::FastRequest& request) {
    v1::FastResponse response;
    response.set_call_id(request.call_id() + 100);
    return std::optional<std::string>(response.SerializeAsString());
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<v1::FastResponse> response = (*client)->Call(Ping(1));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StrContains(response.status().message(),
                                "response to call 101 while waiting for 1"))
      << response.status();
}

TEST(FastPathClientTest, SequentialCallsReuseTheIdleConnection) {
  FakeSwiftd swiftd(&Answer);
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  for (uint64_t sequence = 1; sequence <= 20; ++sequence) {
    ASSERT_TRUE((*client)->Call(Ping(sequence)).ok());
  }
  EXPECT_EQ(swiftd.accepted(), 1);  // The hello's connection, reused.
}

TEST(FastPathClientTest, ConcurrentCallsGetConnectionsOfTheirOwn) {
  FakeSwiftd swiftd([](const v1::FastRequest& request) {
    absl::SleepFor(absl::Milliseconds(200));
    return Answer(request);
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<std::thread> callers;
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back(
        [&client, i] { EXPECT_TRUE((*client)->Call(Ping(i + 1)).ok()); });
  }
  for (std::thread& caller : callers) caller.join();
  const int opened = swiftd.accepted();
  EXPECT_EQ(opened, 3);
  // All idle now: later calls open nothing new.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*client)->Call(Ping(10 + i)).ok());
  }
  EXPECT_EQ(swiftd.accepted(), opened);
}

// swiftd closes the connections brokered on a fast path connection when it
// ends: the client must never close one of its own accord (a pool capped
// at 8 closed the rest after a burst, and with them live connections).
TEST(FastPathClientTest, ABurstKeepsEveryConnectionItOpened) {
  FakeSwiftd swiftd([](const v1::FastRequest& request) {
    absl::SleepFor(absl::Milliseconds(200));
    return Answer(request);
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  auto burst = [&client](int base) {
    std::vector<std::thread> callers;
    for (int i = 0; i < 12; ++i) {
      callers.emplace_back([&client, base, i] {
        EXPECT_TRUE((*client)->Call(Ping(base + i)).ok());
      });
    }
    for (std::thread& caller : callers) caller.join();
  };
  burst(1);
  burst(100);
  // More than the old cap of 8 were opened (12 callers at once; a slow
  // machine may start one after another finished, so not always 12)...
  EXPECT_GT(swiftd.accepted(), 8);
  // ...and none was closed: a closed one would reach the fake at once.
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(swiftd.closed_by_client(), 0);
}

TEST(FastPathClientTest, ASwiftdThatClosesIsUnavailable) {
  FakeSwiftd swiftd([](const v1::FastRequest&) {
    return std::optional<std::string>();  // Hang up.
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<v1::FastResponse> response = (*client)->Call(Ping(1));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
}

TEST(FastPathClientTest, ASwiftdThatIsGoneIsUnavailable) {
  FakeSwiftd swiftd([](const v1::FastRequest&) {
    return std::optional<std::string>();  // Hang up.
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_FALSE((*client)->Call(Ping(1)).ok());  // Drops the connection.
  swiftd.Stop();                                // Nobody to open a new one to.
  absl::StatusOr<v1::FastResponse> response = (*client)->Call(Ping(2));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
}

// A closed connection's QP is reset while swiftd handles the close: the
// request has gone before `meanwhile` runs, and its answer is read after.
TEST(FastPathClientTest, CallAroundRunsMeanwhileAfterTheRequestWent) {
  absl::Mutex mu;
  bool meanwhile_done = false;
  FakeSwiftd swiftd([&](const v1::FastRequest& request) {
    if (request.has_ping()) {
      // Answered only once the caller's work is done: a CallAround that
      // waited for the answer before that work would never return.
      absl::MutexLock lock(&mu);
      EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&meanwhile_done),
                                      absl::Seconds(10)));
    }
    return Answer(request);
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  int ran = 0;
  absl::StatusOr<v1::FastResponse> response =
      (*client)->CallAround(Ping(7), [&] {
        ++ran;
        absl::MutexLock lock(&mu);
        meanwhile_done = true;
      });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->ping().sequence(), 7u);
  EXPECT_EQ(ran, 1);
  // The connection serves the next call.
  EXPECT_TRUE((*client)->Call(Ping(8)).ok());
  EXPECT_EQ(swiftd.accepted(), 1);
}

TEST(FastPathClientTest, CallAroundRunsMeanwhileOnceWhenSwiftdIsGone) {
  FakeSwiftd swiftd([](const v1::FastRequest&) {
    return std::optional<std::string>();  // Hang up.
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test");
  ASSERT_TRUE(client.ok()) << client.status();
  int ran = 0;
  // Sent, then the connection breaks.
  EXPECT_EQ((*client)->CallAround(Ping(1), [&] { ++ran; }).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ran, 1);
  swiftd.Stop();
  // No connection to send on at all.
  EXPECT_EQ((*client)->CallAround(Ping(2), [&] { ++ran; }).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ran, 2);
}

// A swiftd with a call lane (common/call_lane.h) on its one connection,
// that plays the lane's harder cases: it answers two calls in three in the
// lane with a doorbell, after a stale doorbell for the call before; the
// third on the socket, marked in the lane. `watching`: it watches the lane
// for calls all the time, so the client posts them there.
class LaneSwiftd {
 public:
  explicit LaneSwiftd(bool watching) : watching_(watching) {
    char pattern[] = "/tmp/swift-lane-client-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/fast.sock";
    absl::StatusOr<SeqpacketListener> listener =
        SeqpacketListener::Listen(path_, 0600);
    EXPECT_TRUE(listener.ok()) << listener.status();
    listener_.emplace(*std::move(listener));
    thread_ = std::thread([this] { Serve(); });
  }
  ~LaneSwiftd() {
    stop_ = true;
    listener_->Shutdown();
    thread_.join();
    std::system(("rm -rf " + dir_).c_str());
  }
  const std::string& path() const { return path_; }
  int from_lane() const { return from_lane_; }
  int from_socket() const { return from_socket_; }

 private:
  void Serve() {
    absl::StatusOr<SeqpacketSocket> connection = listener_->Accept();
    if (!connection.ok()) {
      return;
    }
    std::optional<CallLane> lane;
    int answered = 0;
    while (!stop_) {
      v1::FastRequest request;
      uint64_t call_id = 0;
      std::string posted;
      char byte;
      if (lane.has_value() &&
          lane->TakeRequest(&call_id, &posted) == CallLane::Request::kHere) {
        ASSERT_TRUE(request.ParseFromString(posted));
        ++from_lane_;
      } else if (recv(connection->fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) >=
                 0) {
        absl::StatusOr<SeqpacketSocket::Message> message =
            connection->Receive();
        if (!message.ok()) {
          return;
        }
        ASSERT_TRUE(request.ParseFromString(message->data));
        ASSERT_FALSE(request.lane_doorbell());  // We always watch, or never.
        if (request.has_hello()) {
          UniqueFd for_client;
          absl::StatusOr<CallLane> made = CallLane::Create(&for_client);
          ASSERT_TRUE(made.ok()) << made.status();
          lane.emplace(*std::move(made));
          lane->set_server_watching(watching_);
          v1::FastResponse reply;
          reply.mutable_hello()->set_lane(true);
          ASSERT_TRUE(
              connection->Send(reply.SerializeAsString(), {for_client.get()})
                  .ok());
          continue;
        }
        ++from_socket_;
      } else {
        sched_yield();
        continue;
      }
      v1::FastResponse response;
      response.set_call_id(request.call_id());
      response.mutable_ping()->set_sequence(request.ping().sequence());
      const std::string answer = response.SerializeAsString();
      if (++answered % 3 == 0) {
        ASSERT_TRUE(connection->Send(answer).ok());
        lane->PostAnswerOnSocket(request.call_id());
        continue;
      }
      ASSERT_TRUE(lane->PostAnswer(request.call_id(), answer));
      for (uint64_t id : {request.call_id() - 1, request.call_id()}) {
        v1::FastResponse doorbell;
        doorbell.set_call_id(id);
        doorbell.set_lane_doorbell(true);
        ASSERT_TRUE(connection->Send(doorbell.SerializeAsString()).ok());
      }
    }
  }

  const bool watching_;
  std::string dir_;
  std::string path_;
  std::optional<SeqpacketListener> listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> from_lane_{0};
  std::atomic<int> from_socket_{0};
  std::thread thread_;
};

TEST(FastPathClientTest, AnswersComeThroughTheLaneTheDoorbellOrTheSocket) {
  for (const bool watching : {false, true}) {
    LaneSwiftd swiftd(watching);
    auto client = FastPathClient::Connect(swiftd.path(), "test");
    ASSERT_TRUE(client.ok()) << client.status();
    for (uint64_t sequence = 100; sequence < 400; ++sequence) {
      absl::StatusOr<v1::FastResponse> response =
          (*client)->Call(Ping(sequence));
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_EQ(response->ping().sequence(), sequence);
    }
    // Calls go in the lane exactly when swiftd watches it.
    EXPECT_EQ(swiftd.from_lane(), watching ? 300 : 0);
    EXPECT_EQ(swiftd.from_socket(), watching ? 0 : 300);
  }
}

TEST(FastPathClientTest, AClientThatDoesNotSpinAsksForNoLane) {
  FakeSwiftd swiftd([](const v1::FastRequest& request) {
    EXPECT_FALSE(request.has_hello() && request.hello().lane());
    return Answer(request);
  });
  auto client = FastPathClient::Connect(swiftd.path(), "test",
                                        /*answer_spin=*/absl::ZeroDuration());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Call(Ping(1)).ok());
}

}  // namespace
}  // namespace swift
