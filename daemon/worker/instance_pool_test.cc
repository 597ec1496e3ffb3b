// InstancePool's policy on the host: spares are forked only once traffic
// pauses and never while an invocation runs; at max_instances the
// longest-idle instance that has run is retired, never a spare or a busy
// one; instances past their deadline or idle too long expire, spares
// never; the loop wakes for the earliest of them; a spare parked on a
// client's channel is kept for that channel.
#include "daemon/worker/instance_pool.h"

#include <gtest/gtest.h>

namespace swift {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);

InstancePool::Options Policy(int spares = 1, int max_instances = 3) {
  InstancePool::Options options;
  options.spares = spares;
  options.max_instances = max_instances;
  options.idle_timeout = absl::Seconds(60);
  options.quiet_period = absl::Milliseconds(20);
  options.retry_interval = absl::Milliseconds(200);
  return options;
}

InstancePool::Job JobAt(absl::Time started, uint64_t request_id = 7,
                        absl::Duration timeout = absl::Seconds(10)) {
  InstancePool::Job job;
  job.request_id = request_id;
  job.mode = worker::v1::FORK;
  job.route = 3;
  job.started = started;
  job.deadline = started + timeout;
  return job;
}

TEST(InstancePoolTest, AnEmptyPoolMissesItsSparesOnceTrafficPauses) {
  InstancePool pool(Policy(/*spares=*/2));
  EXPECT_EQ(pool.MissingSpares(), 2);
  // No traffic yet: at once.
  EXPECT_EQ(pool.NextSpareFork(), absl::InfinitePast());
  pool.NoteActivity(kT0);
  EXPECT_EQ(pool.NextSpareFork(), kT0 + absl::Milliseconds(20));
  EXPECT_EQ(pool.NextWake(), kT0 + absl::Milliseconds(20));
}

TEST(InstancePoolTest, NoSpareIsMissingWhileAnInvocationRuns) {
  InstancePool pool(Policy(/*spares=*/1));
  pool.AddRunning(1, JobAt(kT0));
  EXPECT_EQ(pool.MissingSpares(), 0);
  EXPECT_EQ(pool.NextSpareFork(), absl::InfiniteFuture());
  // Its reply is traffic: the spare waits for the quiet period after it.
  pool.Finish(1, kT0 + absl::Milliseconds(5));
  EXPECT_EQ(pool.MissingSpares(), 1);
  EXPECT_EQ(pool.NextSpareFork(), kT0 + absl::Milliseconds(25));
}

TEST(InstancePoolTest, ReadySparesAreNotForkedAgain) {
  InstancePool pool(Policy(/*spares=*/1));
  pool.Add(1, kT0);
  EXPECT_EQ(pool.Spares(), 1);
  EXPECT_EQ(pool.MissingSpares(), 0);
  EXPECT_EQ(pool.NextSpareFork(), absl::InfiniteFuture());
  // Used: one is missing again.
  pool.Start(1, JobAt(kT0));
  pool.Finish(1, kT0 + absl::Milliseconds(1));
  EXPECT_EQ(pool.Spares(), 0);
  EXPECT_EQ(pool.MissingSpares(), 1);
}

TEST(InstancePoolTest, AFailedSpareForkWaitsTheRetryInterval) {
  InstancePool pool(Policy());
  pool.NoteActivity(kT0);
  pool.NoteSpareForkFailed(kT0 + absl::Milliseconds(30));
  EXPECT_EQ(pool.NextSpareFork(), kT0 + absl::Milliseconds(230));
}

TEST(InstancePoolTest, WithoutSparesNothingIsEverMissing) {
  InstancePool pool(Policy(/*spares=*/0));
  EXPECT_EQ(pool.MissingSpares(), 0);
  EXPECT_EQ(pool.NextWake(), absl::InfiniteFuture());
}

TEST(InstancePoolTest, StartMarksWhetherASpareServedTheJob) {
  InstancePool pool(Policy());
  pool.Add(1, kT0);
  pool.Start(1, JobAt(kT0));
  EXPECT_TRUE(pool.Find(1)->job.spare);
  EXPECT_FALSE(pool.Find(1)->fresh);
  pool.Finish(1, kT0 + absl::Seconds(1));
  pool.Start(1, JobAt(kT0 + absl::Seconds(2)));
  EXPECT_FALSE(pool.Find(1)->job.spare) << "a warm run";
  // Forked for its request: not a spare either.
  pool.AddRunning(2, JobAt(kT0));
  EXPECT_FALSE(pool.Find(2)->job.spare);
}

TEST(InstancePoolTest, FinishReturnsTheJobForTheReply) {
  InstancePool pool(Policy());
  pool.AddRunning(1, JobAt(kT0, /*request_id=*/42));
  const InstancePool::Job job = pool.Finish(1, kT0 + absl::Seconds(1));
  EXPECT_EQ(job.request_id, 42u);
  EXPECT_EQ(job.route, 3u);
  EXPECT_FALSE(pool.Find(1)->busy);
  EXPECT_EQ(pool.Find(1)->idle_since, kT0 + absl::Seconds(1));
}

TEST(InstancePoolTest, FindIdleTellsSparesFromInstancesThatRan) {
  InstancePool pool(Policy());
  pool.Add(1, kT0);
  pool.AddRunning(2, JobAt(kT0));
  EXPECT_EQ(pool.FindIdle(/*fresh=*/true), std::optional<uint64_t>(1));
  EXPECT_EQ(pool.FindIdle(/*fresh=*/false), std::nullopt) << "2 is busy";
  pool.Finish(2, kT0);
  EXPECT_EQ(pool.FindIdle(/*fresh=*/false), std::optional<uint64_t>(2));
  pool.Retire(2);
  EXPECT_EQ(pool.FindIdle(/*fresh=*/false), std::nullopt) << "retiring";
}

TEST(InstancePoolTest, AParkedSpareIsKeptForItsChannel) {
  InstancePool pool(Policy(/*spares=*/2));
  pool.Add(1, kT0);
  pool.Add(2, kT0);
  EXPECT_EQ(pool.SpareToPark(), std::optional<uint64_t>(1));
  pool.Park(1, /*route=*/9);
  EXPECT_EQ(pool.Find(1)->parked_route, 9u);
  EXPECT_EQ(pool.SpareToPark(), std::optional<uint64_t>(2));
  EXPECT_EQ(pool.FindIdle(/*fresh=*/true), std::optional<uint64_t>(2))
      << "no other request takes a parked spare";
  EXPECT_EQ(pool.Spares(), 2) << "it is still a spare";
  EXPECT_EQ(pool.Find(2)->parked_route, 0u);
  EXPECT_EQ(pool.MissingSpares(), 0) << "a parked spare counts";
  pool.Park(2, /*route=*/10);
  EXPECT_EQ(pool.SpareToPark(), std::nullopt);
  EXPECT_EQ(pool.FindIdle(/*fresh=*/true), std::nullopt);
  // Its channel's request starts on it: a spare served it, and it keeps
  // the channel until it gives it back.
  pool.Start(1, JobAt(kT0));
  EXPECT_TRUE(pool.Find(1)->job.spare);
  EXPECT_EQ(pool.Find(2)->parked_route, 10u);
  EXPECT_EQ(pool.MissingSpares(), 0) << "an invocation runs";
  pool.Finish(1, kT0);
  EXPECT_EQ(pool.FindIdle(/*fresh=*/false), std::nullopt)
      << "not before its channel is back";
  EXPECT_EQ(pool.Unpark(1), 9u);
  EXPECT_EQ(pool.Find(1)->parked_route, 0u);
  EXPECT_EQ(pool.FindIdle(/*fresh=*/false), std::optional<uint64_t>(1));
  EXPECT_EQ(pool.Unpark(1), 0u) << "given back once";
}

TEST(InstancePoolTest, AtMaxInstancesTheLongestIdleThatRanIsRetired) {
  InstancePool pool(Policy(/*spares=*/1, /*max_instances=*/4));
  pool.AddRunning(1, JobAt(kT0));
  pool.AddRunning(2, JobAt(kT0));
  pool.AddRunning(3, JobAt(kT0));
  pool.Add(4, kT0);  // A spare, idle the longest of all.
  pool.Finish(1, kT0 + absl::Seconds(3));
  pool.Finish(2, kT0 + absl::Seconds(1));  // The longest-idle that ran.
  EXPECT_TRUE(pool.Full());
  EXPECT_EQ(pool.ToRetire(), std::optional<uint64_t>(2));
  pool.Retire(2);
  EXPECT_EQ(pool.Live(), 3);
  EXPECT_FALSE(pool.Full());
  // Retiring is not live, but still known until reaped.
  EXPECT_TRUE(pool.Find(2)->retiring);
  pool.Remove(2);
  EXPECT_EQ(pool.Find(2), nullptr);
}

TEST(InstancePoolTest, NeitherASpareNorABusyInstanceIsRetired) {
  InstancePool pool(Policy(/*spares=*/1, /*max_instances=*/2));
  pool.Add(1, kT0);
  pool.AddRunning(2, JobAt(kT0));
  EXPECT_TRUE(pool.Full());
  EXPECT_EQ(pool.ToRetire(), std::nullopt);
}

TEST(InstancePoolTest, IdleInstancesThatRanExpireAndSparesNever) {
  InstancePool pool(Policy());
  pool.Add(1, kT0);
  pool.AddRunning(2, JobAt(kT0));
  pool.Finish(2, kT0 + absl::Seconds(1));
  EXPECT_TRUE(pool.ExpiredAt(kT0 + absl::Seconds(60)).empty());
  EXPECT_EQ(pool.NextWake(), kT0 + absl::Seconds(61));
  const std::vector<InstancePool::Expired> expired =
      pool.ExpiredAt(kT0 + absl::Seconds(61));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, 2u);
  EXPECT_EQ(expired[0].why, InstancePool::Expiry::kIdle);
  // The spare, idle for an hour, stays.
  pool.Remove(2);
  EXPECT_TRUE(pool.ExpiredAt(kT0 + absl::Hours(1)).empty());
  EXPECT_EQ(pool.NextWake(), absl::InfiniteFuture());
}

TEST(InstancePoolTest, ABusyInstancePastItsDeadlineExpires) {
  InstancePool pool(Policy());
  pool.AddRunning(1, JobAt(kT0, 7, absl::Milliseconds(1500)));
  EXPECT_EQ(pool.NextWake(), kT0 + absl::Milliseconds(1500));
  EXPECT_TRUE(pool.ExpiredAt(kT0 + absl::Milliseconds(1499)).empty());
  const std::vector<InstancePool::Expired> expired =
      pool.ExpiredAt(kT0 + absl::Milliseconds(1500));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].why, InstancePool::Expiry::kDeadline);
  // Running longer than idle_timeout is no idle expiry.
  pool.Finish(1, kT0 + absl::Milliseconds(1));
  pool.Start(1, JobAt(kT0 + absl::Seconds(100), 8, absl::Seconds(500)));
  EXPECT_TRUE(pool.ExpiredAt(kT0 + absl::Seconds(200)).empty());
}

TEST(InstancePoolTest, TheLoopWakesForTheEarliestDueTime) {
  InstancePool pool(Policy(/*spares=*/1));
  pool.AddRunning(1, JobAt(kT0, 7, absl::Seconds(5)));
  pool.AddRunning(2, JobAt(kT0, 8, absl::Seconds(3)));
  EXPECT_EQ(pool.NextWake(), kT0 + absl::Seconds(3));
  pool.Finish(2, kT0 + absl::Seconds(1));
  // 1 still runs: no spare; 2 idles until 61 s; 1's deadline first.
  EXPECT_EQ(pool.NextWake(), kT0 + absl::Seconds(5));
  pool.Finish(1, kT0 + absl::Seconds(2));
  // Nothing runs: the spare fork, 20 ms after the last reply, comes first.
  EXPECT_EQ(pool.NextWake(), kT0 + absl::Seconds(2) + absl::Milliseconds(20));
}

TEST(InstancePoolTest, CountsLiveBusyAndSpares) {
  InstancePool pool(Policy(/*spares=*/2, /*max_instances=*/8));
  pool.Add(1, kT0);
  pool.Add(2, kT0);
  pool.AddRunning(3, JobAt(kT0));
  pool.AddRunning(4, JobAt(kT0));
  pool.Finish(4, kT0);
  pool.Retire(4);
  EXPECT_EQ(pool.Live(), 3);
  EXPECT_EQ(pool.Busy(), 1);
  EXPECT_EQ(pool.Spares(), 2);
  EXPECT_EQ(pool.Ids(), (std::vector<uint64_t>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace swift
