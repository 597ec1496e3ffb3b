// Tests SpinUntilReadable: it sees a message that arrives while it spins,
// gives up at its limit, and never spins without a slot.
#include "common/spin_wait.h"

#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/spin_slot.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

class SpinWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds_), 0);
  }
  void TearDown() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  int fds_[2] = {-1, -1};
};

TEST_F(SpinWaitTest, SeesAMessageThatArrivesWhileItSpins) {
  std::thread sender([&] {
    absl::SleepFor(absl::Milliseconds(2));
    ASSERT_EQ(write(fds_[1], "x", 1), 1);
  });
  EXPECT_TRUE(SpinUntilReadable(fds_[0], absl::Seconds(10)));
  sender.join();
}

TEST_F(SpinWaitTest, GivesUpAtItsLimit) {
  const absl::Time start = absl::Now();
  EXPECT_FALSE(SpinUntilReadable(fds_[0], absl::Milliseconds(5)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(5));
  EXPECT_FALSE(SpinUntilReadable(fds_[0], absl::ZeroDuration()));
}

TEST_F(SpinWaitTest, AHangUpEndsTheSpin) {
  close(fds_[1]);
  fds_[1] = -1;
  EXPECT_TRUE(SpinUntilReadable(fds_[0], absl::Seconds(10)));
}

TEST_F(SpinWaitTest, NeverSpinsWithoutASlot) {
  std::vector<SpinSlot> taken;
  for (int i = 0; i < SpinSlot::Capacity(); ++i) {
    taken.push_back(SpinSlot::TryTake());
  }
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  // Readable, yet no slot: it does not even look.
  EXPECT_FALSE(SpinUntilReadable(fds_[0], absl::Seconds(10)));
  taken.clear();
  EXPECT_TRUE(SpinUntilReadable(fds_[0], absl::Seconds(10)));
}

}  // namespace
}  // namespace swift
