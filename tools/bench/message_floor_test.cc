// MessageFloor: the relay passes a connect's and a close's messages the
// way message_floor.h says, in a process of its own that goes with it.
// The tests run in order: the first needs this process single-threaded.
#include "tools/bench/message_floor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "tools/bench/overhead_cpu.h"

namespace swift::bench {
namespace {

TEST(MessageFloorTest, RelaysConnectsAndClosesAndLeavesNoProcess) {
  absl::StatusOr<std::unique_ptr<MessageFloor>> floor = MessageFloor::Start();
  ASSERT_TRUE(floor.ok()) << floor.status();
  const pid_t relay = (*floor)->pid();
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<absl::Duration> connect_time = (*floor)->ConnectAndClose();
    ASSERT_TRUE(connect_time.ok()) << i << ": " << connect_time.status();
    EXPECT_GT(*connect_time, absl::ZeroDuration());
  }
  // The relay's three threads, by the names its switches are reported
  // under, each woken by the messages it relayed.
  absl::StatusOr<std::map<std::string, uint64_t>> switches =
      ReadContextSwitchesByThread(relay);
  ASSERT_TRUE(switches.ok()) << switches.status();
  for (const char* name : {"floor-a-fast", "floor-b-link", "floor-b-svc"}) {
    ASSERT_EQ(switches->count(name), 1u) << name;
    EXPECT_GE(switches->at(name), 200u) << name;
  }
  floor->reset();
  // Reaped: not even a zombie is left.
  EXPECT_EQ(kill(relay, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(MessageFloorTest, RefusesToForkFromAProcessWithThreads) {
  absl::Notification done;
  std::thread other([&done] { done.WaitForNotification(); });
  absl::StatusOr<std::unique_ptr<MessageFloor>> floor = MessageFloor::Start();
  done.Notify();
  other.join();
  EXPECT_EQ(floor.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(floor.status().message().find("has 2"), std::string::npos)
      << floor.status();
}

}  // namespace
}  // namespace swift::bench
