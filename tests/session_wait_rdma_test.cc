// A brokered connection's CQ waited on with swift::CqWaiter in every wait
// mode, across the guest's two hosts: SEND/RECV both ways with the bytes
// checked, each side sleeping (or polling) for its own completions; and
// the SessionOptions that shape those CQs (completion channels, vector).
#include <infiniband/verbs.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "swift/session.h"
#include "swift/wait.h"
#include "tests/two_swiftd_fixture.h"

namespace swift {
namespace {

using ::swift::testing::TwoSwiftdTest;

constexpr int kPeerPort = 17681;
constexpr size_t kRecvOffset = 0;
constexpr size_t kSendOffset = 4096;
constexpr uint32_t kMessageBytes = 64;

absl::Status PostRecv(Connection& connection, uint64_t wr_id) {
  ibv_sge sge = {reinterpret_cast<uint64_t>(connection.buffer() + kRecvOffset),
                 kMessageBytes, connection.mr()->lkey};
  ibv_recv_wr wr = {};
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  if (int rc = ibv_post_recv(connection.qp(), &wr, &bad); rc != 0) {
    return absl::InternalError(absl::StrCat("ibv_post_recv: ", rc));
  }
  return absl::OkStatus();
}

absl::Status PostSend(Connection& connection, const std::string& message,
                      uint64_t wr_id) {
  std::memset(connection.buffer() + kSendOffset, 0, kMessageBytes);
  std::memcpy(connection.buffer() + kSendOffset, message.data(),
              message.size());
  ibv_sge sge = {reinterpret_cast<uint64_t>(connection.buffer() + kSendOffset),
                 kMessageBytes, connection.mr()->lkey};
  ibv_send_wr wr = {};
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_SEND;
  wr.send_flags = IBV_SEND_SIGNALED;
  ibv_send_wr* bad = nullptr;
  if (int rc = ibv_post_send(connection.qp(), &wr, &bad); rc != 0) {
    return absl::InternalError(absl::StrCat("ibv_post_send: ", rc));
  }
  return absl::OkStatus();
}

// Waits for exactly the completions `due` (successful, in any order: a
// send's acknowledgement and a receive are completed by different parts of
// the provider) and no other.
absl::Status WaitForAll(CqWaiter& waiter, std::set<uint64_t> due) {
  const std::string expected = absl::StrJoin(due, " and ");
  while (!due.empty()) {
    ibv_wc wc;
    absl::StatusOr<int> count = waiter.Wait(&wc, 1, absl::Seconds(30));
    if (!count.ok()) {
      return count.status();
    }
    if (wc.status != IBV_WC_SUCCESS || due.erase(wc.wr_id) != 1) {
      return absl::InternalError(absl::StrCat(
          "completion ", wc.wr_id, " (", ibv_wc_status_str(wc.status),
          ") when ", expected, " were due"));
    }
  }
  return absl::OkStatus();
}

std::string Received(const Connection& connection) {
  return std::string(
      reinterpret_cast<const char*>(connection.buffer() + kRecvOffset));
}

class SessionWaitRdmaTest : public TwoSwiftdTest,
                            public ::testing::WithParamInterface<WaitMode> {
 protected:
  SessionWaitRdmaTest() : TwoSwiftdTest(kPeerPort) {}
};

TEST_P(SessionWaitRdmaTest, MessagesGoBothWaysWithEachSideWaiting) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_, 1, 2, 8192);
  auto client = SessionOn(b_, 1, 2, 8192);
  ASSERT_TRUE(server && client);
  auto listener = server->Listen("wait-echo", 2);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto connection = client->Connect(a_.peer_address(), "wait-echo");
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto accepted = (*listener)->Accept(absl::Seconds(10));
  ASSERT_TRUE(accepted.ok()) << accepted.status();

  WaitOptions options;
  options.mode = GetParam();
  constexpr uint64_t kRounds = 50;
  ASSERT_TRUE(PostRecv(**accepted, 0).ok());
  ASSERT_TRUE(PostRecv(**connection, 0).ok());
  absl::Status server_result;
  std::thread echo([&] {
    auto waiter = CqWaiter::Create((*accepted)->cq(), options);
    if (!waiter.ok()) {
      server_result = waiter.status();
      return;
    }
    // Receive r arrives; answer it; its send completes together with the
    // next receive (wr_ids: receive r is 2r, send r is 2r+1).
    for (uint64_t r = 0; r < kRounds && server_result.ok(); ++r) {
      if (r == 0) {
        server_result = WaitForAll(**waiter, {0});
      }
      const std::string got = Received(**accepted);
      if (server_result.ok() && got != absl::StrCat("ping ", r)) {
        server_result = absl::InternalError(absl::StrCat("got '", got, "'"));
      }
      if (server_result.ok()) {
        server_result = PostRecv(**accepted, 2 * (r + 1));
      }
      if (server_result.ok()) {
        server_result =
            PostSend(**accepted, absl::StrCat("pong ", r), 2 * r + 1);
      }
      if (server_result.ok()) {
        server_result = r + 1 < kRounds
                            ? WaitForAll(**waiter, {2 * r + 1, 2 * (r + 1)})
                            : WaitForAll(**waiter, {2 * r + 1});
      }
    }
  });
  auto waiter = CqWaiter::Create((*connection)->cq(), options);
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  for (uint64_t r = 0; r < kRounds; ++r) {
    ASSERT_TRUE(
        PostSend(**connection, absl::StrCat("ping ", r), 2 * r + 1).ok());
    absl::Status done = WaitForAll(**waiter, {2 * r + 1, 2 * r});
    ASSERT_TRUE(done.ok()) << done;
    EXPECT_EQ(Received(**connection), absl::StrCat("pong ", r));
    ASSERT_TRUE(PostRecv(**connection, 2 * (r + 1)).ok());
  }
  echo.join();
  EXPECT_TRUE(server_result.ok()) << server_result;
  EXPECT_EQ((*waiter)->stats().completions, 2u * kRounds);
  // The waiter goes before the connection, whose CQ returns to the pool.
  waiter->reset();
  EXPECT_TRUE((*connection)->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(AllModes, SessionWaitRdmaTest,
                         ::testing::Values(WaitMode::kBusyPoll,
                                           WaitMode::kEvent, WaitMode::kHybrid,
                                           WaitMode::kDispatcher),
                         [](const ::testing::TestParamInfo<WaitMode>& info) {
                           return std::string(WaitModeName(info.param));
                         });

class SessionCqOptionsRdmaTest : public TwoSwiftdTest {
 protected:
  SessionCqOptionsRdmaTest() : TwoSwiftdTest(kPeerPort + 1) {}
};

TEST_F(SessionCqOptionsRdmaTest, ConnectionCqsHaveChannelsUnlessTurnedOff) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = SessionOn(a_, 1, 2, 8192);
  ASSERT_TRUE(server);
  auto listener = server->Listen("plain", 2);
  ASSERT_TRUE(listener.ok()) << listener.status();
  SessionOptions options;
  options.socket_path = b_.socket();
  options.pool_low = 1;
  options.pool_high = 2;
  options.buffer_bytes = 8192;
  options.completion_channels = false;
  auto plain = Session::Create(options);
  ASSERT_TRUE(plain.ok()) << plain.status();
  auto connection = (*plain)->Connect(a_.peer_address(), "plain");
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ((*connection)->cq()->channel, nullptr);
  WaitOptions event;
  event.mode = WaitMode::kEvent;
  EXPECT_EQ(CqWaiter::Create((*connection)->cq(), event).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto accepted = (*listener)->Accept(absl::Seconds(10));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  // The server session kept the default: a channel per CQ.
  EXPECT_NE((*accepted)->cq()->channel, nullptr);
}

TEST_F(SessionCqOptionsRdmaTest, AVectorTheDeviceLacksIsRefusedNamingIt) {
  ASSERT_TRUE(b_.swiftd);
  SessionOptions options;
  options.socket_path = b_.socket();
  options.buffer_bytes = 8192;
  options.comp_vector = 4096;
  auto session = Session::Create(options);
  ASSERT_EQ(session.status().code(), absl::StatusCode::kInvalidArgument)
      << session.status();
  EXPECT_NE(session.status().message().find("completion vectors"),
            std::string::npos)
      << session.status();
  options.comp_vector = -2;
  EXPECT_EQ(Session::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A vector the device has is taken.
  options.comp_vector = 0;
  EXPECT_TRUE(Session::Create(options).ok());
}

}  // namespace
}  // namespace swift
