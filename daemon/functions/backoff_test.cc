// Backoff: the restore schedule (initial, doubling, capped).
#include "daemon/functions/backoff.h"

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(BackoffTest, DoublesUpToTheMaximum) {
  Backoff backoff(absl::Seconds(1), absl::Seconds(60));
  for (int seconds : {1, 2, 4, 8, 16, 32, 60, 60, 60}) {
    EXPECT_EQ(backoff.Next(), absl::Seconds(seconds));
  }
}

TEST(BackoffTest, TheFirstWaitIsCappedToo) {
  Backoff backoff(absl::Seconds(5), absl::Seconds(3));
  EXPECT_EQ(backoff.Next(), absl::Seconds(3));
  EXPECT_EQ(backoff.Next(), absl::Seconds(3));
}

}  // namespace
}  // namespace swift
