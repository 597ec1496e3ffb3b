// Tests ClosedNotices: delivery until acknowledged, bounds, restarts.
#include "daemon/broker/closed_notices.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kStart = absl::FromUnixSeconds(1000);

TEST(ClosedNoticesTest, KeptUntilAcknowledged) {
  ClosedNotices notices;
  notices.Add("10.0.0.1", 7, 101, kStart);
  notices.Add("10.0.0.1", 7, 102, kStart);
  ClosedNotices::Batch first =
      notices.Collect("10.0.0.1", 7, {}, false, kStart);
  EXPECT_THAT(first.closed, ElementsAre(101, 102));
  EXPECT_FALSE(first.lost);
  // The answer was lost: the same again.
  EXPECT_THAT(notices.Collect("10.0.0.1", 7, {}, false, kStart).closed,
              ElementsAre(101, 102));
  notices.Add("10.0.0.1", 7, 103, kStart);
  EXPECT_THAT(
      notices.Collect("10.0.0.1", 7, first.closed, false, kStart).closed,
      ElementsAre(103));
  EXPECT_THAT(notices.Collect("10.0.0.1", 7, {103}, false, kStart).closed,
              IsEmpty());
  EXPECT_EQ(notices.size(), 0u);
}

TEST(ClosedNoticesTest, CallersAndIncarnationsAreKeptApart) {
  ClosedNotices notices;
  notices.Add("10.0.0.1", 7, 1, kStart);
  notices.Add("10.0.0.2", 7, 2, kStart);
  notices.Add("10.0.0.1", 8, 3, kStart);
  EXPECT_THAT(notices.Collect("10.0.0.2", 7, {}, false, kStart).closed,
              ElementsAre(2));
  // The caller at 10.0.0.1 now speaks as incarnation 8: it restarted, and
  // incarnation 7's notices are of no use to anyone.
  EXPECT_THAT(notices.Collect("10.0.0.1", 8, {}, false, kStart).closed,
              ElementsAre(3));
  EXPECT_EQ(notices.size(), 2u);
  EXPECT_THAT(notices.Collect("10.0.0.1", 7, {}, false, kStart).closed,
              IsEmpty());
}

TEST(ClosedNoticesTest, UnknownCallersAreNotKept) {
  ClosedNotices notices;
  notices.Add("", 7, 1, kStart);
  notices.Add("10.0.0.1", 0, 1, kStart);
  notices.Add("10.0.0.1", 7, 0, kStart);
  EXPECT_EQ(notices.size(), 0u);
}

TEST(ClosedNoticesTest, OverflowDropsTheOldestAndSaysSoUntilAcknowledged) {
  ClosedNotices::Options options;
  options.max_per_caller = 3;
  ClosedNotices notices(options);
  for (uint64_t id = 1; id <= 5; ++id) {
    notices.Add("a", 1, id, kStart);
  }
  ClosedNotices::Batch batch = notices.Collect("a", 1, {}, false, kStart);
  EXPECT_THAT(batch.closed, ElementsAre(3, 4, 5));
  EXPECT_TRUE(batch.lost);
  batch = notices.Collect("a", 1, batch.closed, false, kStart);
  EXPECT_THAT(batch.closed, IsEmpty());
  EXPECT_TRUE(batch.lost);  // Not acknowledged yet.
  batch = notices.Collect("a", 1, {}, true, kStart);
  EXPECT_FALSE(batch.lost);
}

TEST(ClosedNoticesTest, BoundedInCallersAndAge) {
  ClosedNotices::Options options;
  options.max_callers = 2;
  options.max_age = absl::Minutes(1);
  ClosedNotices notices(options);
  notices.Add("a", 1, 1, kStart);
  notices.Add("b", 1, 2, kStart + absl::Seconds(1));
  notices.Add("c", 1, 3, kStart + absl::Seconds(2));  // "a" makes room.
  EXPECT_THAT(notices.Collect("a", 1, {}, false, kStart).closed, IsEmpty());
  EXPECT_EQ(notices.size(), 2u);
  // Nobody collected for longer than max_age: forgotten.
  EXPECT_THAT(
      notices.Collect("c", 1, {}, false, kStart + absl::Minutes(5)).closed,
      IsEmpty());
  EXPECT_EQ(notices.size(), 0u);
}

TEST(ClosedNoticesTest, BatchesAreBounded) {
  ClosedNotices::Options options;
  options.max_batch = 2;
  ClosedNotices notices(options);
  for (uint64_t id = 1; id <= 3; ++id) {
    notices.Add("a", 1, id, kStart);
  }
  ClosedNotices::Batch batch = notices.Collect("a", 1, {}, false, kStart);
  EXPECT_THAT(batch.closed, ElementsAre(1, 2));
  EXPECT_THAT(notices.Collect("a", 1, batch.closed, false, kStart).closed,
              ElementsAre(3));
}

}  // namespace
}  // namespace swift
