// Tests for RunThisThreadWhenIdle().
#include "common/idle_priority.h"

#include <thread>

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(IdlePriorityTest, MovesTheCallingThreadOnly) {
  bool worker_idle = false;
  absl::Status status;
  std::thread worker([&] {
    status = RunThisThreadWhenIdle();
    worker_idle = ThisThreadRunsWhenIdle();
  });
  worker.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(worker_idle);
  EXPECT_FALSE(ThisThreadRunsWhenIdle());
}

}  // namespace
}  // namespace swift
