// PrewarmLearner: when a service becomes worth a pool, to what target, and
// what it forgets (time given by the test).
#include "client/prewarm_learner.h"

#include "gtest/gtest.h"

namespace swift {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000);

PrewarmLearner::Options Learn(int after, int max_per_service = 8,
                              int max_services = 64) {
  PrewarmLearner::Options options;
  options.after = after;
  options.window = absl::Seconds(10);
  options.max_per_service = max_per_service;
  options.max_services = max_services;
  return options;
}

TEST(PrewarmLearnerTest, AServiceHandshakenOftenEnoughIsWorthAPool) {
  PrewarmLearner learner(Learn(/*after=*/3));
  // One every two seconds: worth a pool at the third, a pair at a time.
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart), std::nullopt);
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(2)),
            std::nullopt);
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(4)), 1);
  // The same target is not suggested again.
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(6)),
            std::nullopt);
  // Another service, or the same service on another host, counts apart.
  EXPECT_EQ(learner.Handshaken("c", "kv", kStart + absl::Seconds(6)),
            std::nullopt);
}

TEST(PrewarmLearnerTest, TheTargetIsTheBurstOfOneSecondAndGrowsWithIt) {
  PrewarmLearner learner(Learn(/*after=*/3, /*max_per_service=*/5));
  absl::Time now = kStart;
  EXPECT_EQ(learner.Handshaken("b", "kv", now), std::nullopt);
  EXPECT_EQ(learner.Handshaken("b", "kv", now += absl::Milliseconds(100)),
            std::nullopt);
  EXPECT_EQ(learner.Handshaken("b", "kv", now += absl::Milliseconds(100)), 3);
  EXPECT_EQ(learner.Handshaken("b", "kv", now += absl::Milliseconds(100)), 4);
  // Spread out, the burst does not grow.
  EXPECT_EQ(learner.Handshaken("b", "kv", now += absl::Seconds(3)),
            std::nullopt);
  // A larger burst raises it (with the last one: five within a second),
  // up to the bound and no further.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(learner.Handshaken("b", "kv", now += absl::Milliseconds(10)),
              std::nullopt);
  }
  EXPECT_EQ(learner.Handshaken("b", "kv", now += absl::Milliseconds(10)), 5);
  EXPECT_EQ(learner.Handshaken("b", "kv", now += absl::Milliseconds(10)),
            std::nullopt);
}

TEST(PrewarmLearnerTest, HandshakesOutsideTheWindowDoNotCount) {
  PrewarmLearner learner(Learn(/*after=*/3));
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart), std::nullopt);
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(8)),
            std::nullopt);
  // The first one left the window: still two.
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(11)),
            std::nullopt);
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(12)), 1);
}

TEST(PrewarmLearnerTest, AQuietServiceIsLearnedAfresh) {
  PrewarmLearner learner(Learn(/*after=*/2));
  learner.Handshaken("b", "kv", kStart);
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(1)), 1);
  // Quiet for longer than the window (its pool may have been dropped):
  // forgotten when room is made, and suggested again when used again.
  learner.Handshaken("c", "other", kStart + absl::Seconds(30));
  EXPECT_EQ(learner.tracked(), 1);
  learner.Handshaken("b", "kv", kStart + absl::Seconds(31));
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(32)), 1);
  // Also without another service making room.
  learner.Handshaken("b", "kv", kStart + absl::Seconds(60));
  EXPECT_EQ(learner.Handshaken("b", "kv", kStart + absl::Seconds(61)), 1);
}

TEST(PrewarmLearnerTest, TracksABoundedNumberOfServices) {
  PrewarmLearner learner(Learn(/*after=*/2, 8, /*max_services=*/3));
  for (int i = 0; i < 10; ++i) {
    learner.Handshaken("b", "s" + std::to_string(i),
                       kStart + absl::Milliseconds(i));
  }
  EXPECT_EQ(learner.tracked(), 3);
  // The most recent ones are kept: s9 is worth a pool at its second.
  EXPECT_EQ(learner.Handshaken("b", "s9", kStart + absl::Milliseconds(20)), 2);
}

}  // namespace
}  // namespace swift
