// EventLoop on the host: readable fds are delivered in the order listed,
// rounds follow events and timeouts, the handler stops the loop, and the
// poll timeout wakes after the due time, at most every max_sleep.
#include "daemon/worker/event_loop.h"

#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "common/seqpacket_socket.h"

namespace swift {
namespace {

TEST(EventLoopTest, PollTimeoutWakesJustAfterTheDueTime) {
  const absl::Time now = absl::FromUnixSeconds(100);
  EXPECT_EQ(EventLoop::PollTimeoutMs(now + absl::Milliseconds(20), now,
                                     absl::Seconds(1)),
            21);
  EXPECT_EQ(
      EventLoop::PollTimeoutMs(absl::InfiniteFuture(), now, absl::Seconds(1)),
      1001);
  EXPECT_EQ(
      EventLoop::PollTimeoutMs(now - absl::Seconds(5), now, absl::Seconds(1)),
      0);
  EXPECT_EQ(
      EventLoop::PollTimeoutMs(absl::InfinitePast(), now, absl::Seconds(1)), 0);
}

// Two socket pairs: the loop watches a and b; the test writes to them.
class Recorder : public EventLoop::Handler {
 public:
  Recorder() {
    for (int i = 0; i < 2; ++i) {
      auto pair = SeqpacketSocket::Pair();
      EXPECT_TRUE(pair.ok());
      watched_.push_back(
          std::make_unique<SeqpacketSocket>(std::move(pair->first)));
      writers_.push_back(
          std::make_unique<SeqpacketSocket>(std::move(pair->second)));
    }
  }

  std::vector<EventLoop::Watch> Watches() override {
    return {{watched_[0]->fd(), 0, 10}, {watched_[1]->fd(), 1, 20}};
  }
  absl::Time NextWake() override { return wake_; }
  bool OnReadable(const EventLoop::Watch& watch) override {
    absl::StatusOr<SeqpacketSocket::Message> message =
        watched_[watch.kind]->Receive();
    events_.push_back(watch.id);
    return !(message.ok() && message->data == "stop");
  }
  void OnRound() override {
    ++rounds_;
    if (rounds_ == 1) {
      // Both at once: delivered in the order listed.
      ASSERT_TRUE(writers_[1]->Send("b").ok());
      ASSERT_TRUE(writers_[0]->Send("a").ok());
    } else if (rounds_ == 2) {
      wake_ = absl::Now();  // A timed round next, with no event.
    } else if (rounds_ == 3) {
      wake_ = absl::InfiniteFuture();
      ASSERT_TRUE(writers_[1]->Send("stop").ok());
    }
  }

  std::vector<std::unique_ptr<SeqpacketSocket>> watched_;
  std::vector<std::unique_ptr<SeqpacketSocket>> writers_;
  absl::Time wake_ = absl::InfinitePast();
  std::vector<uint64_t> events_;
  int rounds_ = 0;
};

TEST(EventLoopTest, DeliversInOrderRunsRoundsAndStopsWhenTold) {
  Recorder recorder;
  const absl::Time start = absl::Now();
  EXPECT_TRUE(EventLoop::Run(recorder).ok());
  EXPECT_EQ(recorder.events_, (std::vector<uint64_t>{10, 20, 20}));
  // The first round timed out at once (wake in the past), the second had
  // the two events, the third was timed; the stop ended the loop before a
  // fourth.
  EXPECT_EQ(recorder.rounds_, 3);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << "no round slept";
}

}  // namespace
}  // namespace swift
