// SwiftdLink on the host, over a socket pair standing for swiftd: ready,
// failed (the status encoded), replies with stats, stats sent only when
// they changed, and what swiftd sends (parsed, malformed, closed).
#include "daemon/worker/swiftd_link.h"

#include <gtest/gtest.h>
#include <poll.h>

#include "common/seqpacket_socket.h"

namespace swift {
namespace {

class SwiftdLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pair = SeqpacketSocket::Pair();
    ASSERT_TRUE(pair.ok()) << pair.status();
    swiftd_ = std::make_unique<SeqpacketSocket>(std::move(pair->first));
    link_ = std::make_unique<SwiftdLink>(std::move(pair->second));
  }

  worker::v1::WorkerUp Up() {
    worker::v1::WorkerUp up;
    absl::StatusOr<SeqpacketSocket::Message> message = swiftd_->Receive();
    EXPECT_TRUE(message.ok() && up.ParseFromString(message->data));
    return up;
  }

  // Whether a message is waiting (without blocking).
  bool Pending() {
    pollfd fd = {swiftd_->fd(), POLLIN, 0};
    return poll(&fd, 1, 0) == 1;
  }

  std::unique_ptr<SeqpacketSocket> swiftd_;
  std::unique_ptr<SwiftdLink> link_;
};

TEST_F(SwiftdLinkTest, ReadyAndFailedReachSwiftd) {
  worker::v1::WorkerReady ready;
  ready.set_pid(77);
  link_->SendReady(ready);
  EXPECT_EQ(Up().ready().pid(), 77);
  link_->SendFailed(absl::NotFoundError("cannot load f.so"));
  const worker::v1::WorkerUp failed = Up();
  ASSERT_TRUE(failed.has_failed());
  EXPECT_EQ(failed.failed().code(),
            static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(failed.failed().message(), "cannot load f.so");
}

TEST_F(SwiftdLinkTest, StatsGoWithRepliesAndAloneOnlyWhenChanged) {
  const absl::Time t0 = absl::Now();
  worker::v1::WorkerStats stats;
  stats.set_instances(2);
  worker::v1::InvokeReply reply;
  reply.set_id(3);
  link_->SendReply(reply, stats);
  const worker::v1::WorkerUp up = Up();
  EXPECT_EQ(up.reply().id(), 3u);
  EXPECT_EQ(up.reply().stats().instances(), 2u);
  link_->SendStatsIfChanged(stats, t0);
  EXPECT_FALSE(Pending()) << "swiftd heard these with the reply";
  EXPECT_EQ(link_->NextStatsSend(), absl::InfiniteFuture());
  stats.set_spares(1);
  link_->SendStatsIfChanged(stats, t0);
  EXPECT_EQ(Up().stats().spares(), 1u) << "a quiet worker reports at once";
}

TEST_F(SwiftdLinkTest, StatsWaitForAPauseOrAtMostTheMaxDelay) {
  const absl::Time t0 = absl::Now();
  worker::v1::WorkerStats stats;
  for (int i = 1; i <= 40; ++i) {
    // An invocation every 10 ms: never quiet for kStatsQuiet.
    const absl::Time now = t0 + i * absl::Milliseconds(10);
    link_->NoteActivity(now);
    stats.set_channel_invocations(i);
    link_->SendStatsIfChanged(stats, now);
    if (now - t0 < SwiftdLink::kStatsMaxDelay) {
      EXPECT_FALSE(Pending()) << "held back during the burst, at " << i;
    }
  }
  EXPECT_EQ(Up().stats().channel_invocations(), 26u)
      << "sent once the first held change is kStatsMaxDelay old";
  EXPECT_FALSE(Pending());
  // The burst ends: the last count goes once the worker is quiet.
  const absl::Time end = t0 + 40 * absl::Milliseconds(10);
  EXPECT_EQ(link_->NextStatsSend(), end + SwiftdLink::kStatsQuiet);
  link_->SendStatsIfChanged(stats, end + absl::Milliseconds(5));
  EXPECT_FALSE(Pending());
  link_->SendStatsIfChanged(stats, end + SwiftdLink::kStatsQuiet);
  EXPECT_EQ(Up().stats().channel_invocations(), 40u);
  EXPECT_EQ(link_->NextStatsSend(), absl::InfiniteFuture());
}

TEST_F(SwiftdLinkTest, ReceivesParsedMalformedAndTheEnd) {
  worker::v1::WorkerDown down;
  down.mutable_invoke()->set_id(9);
  ASSERT_TRUE(swiftd_->Send(down.SerializeAsString()).ok());
  absl::StatusOr<SwiftdLink::Down> received = link_->Receive();
  ASSERT_TRUE(received.ok()) << received.status();
  ASSERT_TRUE(received->message.has_value());
  EXPECT_EQ(received->message->invoke().id(), 9u);

  ASSERT_TRUE(swiftd_->Send("\xff\xff").ok());
  received = link_->Receive();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_FALSE(received->message.has_value());

  swiftd_.reset();
  EXPECT_FALSE(link_->Receive().ok());
}

}  // namespace
}  // namespace swift
