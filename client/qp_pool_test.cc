// QpPool's bookkeeping on a fake QpFactory: no device needed. A fake QP is
// a PooledQp without verbs objects, told apart by its PSN.
#include "client/qp_pool.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/testing/eventually.h"
#include "common/testing/thread_status.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

// Numbers its QPs 1, 2, ... by PSN; fails on demand. Shared with the test,
// which keeps a pointer while the pool owns it.
class FakeQpFactory final : public QpFactory {
 public:
  absl::StatusOr<PooledQp> Create() override {
    absl::MutexLock lock(&mu_);
    ++creating_;
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &hold_create_));
    --creating_;
    if (fail_create_) {
      return absl::ResourceExhaustedError("QP limit");
    }
    PooledQp pooled;
    pooled.psn = ++created_;
    return pooled;
  }

  absl::Status ResetToInit(PooledQp& pooled) override {
    absl::MutexLock lock(&mu_);
    if (fail_reset_) {
      return absl::InternalError("QP in error");
    }
    ++resets_;
    return absl::OkStatus();
  }

  void set_fail_create(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_create_ = fail;
  }
  // While held, Create() waits (in the pool's own thread, say).
  void set_hold_create(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_create_ = hold;
  }
  bool WaitUntilCreating() {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](int* n) { return *n > 0; }, &creating_),
                                absl::Seconds(10));
  }
  void set_fail_reset(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_reset_ = fail;
  }
  int resets() {
    absl::MutexLock lock(&mu_);
    return resets_;
  }

 private:
  absl::Mutex mu_;
  uint32_t created_ ABSL_GUARDED_BY(mu_) = 0;
  int resets_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_create_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_reset_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_create_ ABSL_GUARDED_BY(mu_) = false;
  int creating_ ABSL_GUARDED_BY(mu_) = 0;
};

class QpPoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<QpPool> MakePool(int low, int high) {
    auto factory = std::make_unique<FakeQpFactory>();
    factory_ = factory.get();
    return std::make_unique<QpPool>(std::move(factory),
                                    QpPool::Options{low, high});
  }

  FakeQpFactory* factory_ = nullptr;  // Owned by the pool.
};

TEST_F(QpPoolTest, FillCreatesUpToTheCount) {
  std::unique_ptr<QpPool> pool = MakePool(2, 4);
  ASSERT_TRUE(pool->Fill(3).ok());
  PoolStats stats = pool->stats();
  EXPECT_EQ(stats.ready, 3);
  EXPECT_EQ(stats.created, 3u);
  // Already full enough: nothing more.
  ASSERT_TRUE(pool->Fill(2).ok());
  EXPECT_EQ(pool->stats().created, 3u);
}

TEST_F(QpPoolTest, TakeServesThePoolFirstInOrderThenCreates) {
  std::unique_ptr<QpPool> pool = MakePool(1, 4);
  ASSERT_TRUE(pool->Fill(2).ok());
  absl::StatusOr<PooledQp> first = pool->Take();
  absl::StatusOr<PooledQp> second = pool->Take();
  absl::StatusOr<PooledQp> third = pool->Take();
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(first->psn, 1u);
  EXPECT_EQ(second->psn, 2u);
  EXPECT_EQ(third->psn, 3u);  // Created on the spot.
  const PoolStats stats = pool->stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.created, 3u);
  EXPECT_EQ(stats.ready, 0);
}

TEST_F(QpPoolTest, ATakeOnAnEmptyPoolReportsTheFactorysError) {
  std::unique_ptr<QpPool> pool = MakePool(1, 4);
  factory_->set_fail_create(true);
  absl::StatusOr<PooledQp> taken = pool->Take();
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pool->stats().misses, 1u);
  EXPECT_EQ(pool->stats().created, 0u);
  EXPECT_EQ(pool->Fill(1).code(), absl::StatusCode::kResourceExhausted);
}

// The listener's replacement in an accept's answer must never wait for a
// QP to be created: TakeReady gives what the pool holds, or nothing.
TEST_F(QpPoolTest, TakeReadyNeverCreates) {
  std::unique_ptr<QpPool> pool = MakePool(1, 4);
  EXPECT_FALSE(pool->TakeReady().has_value());
  EXPECT_EQ(pool->stats().created, 0u);
  ASSERT_TRUE(pool->Fill(1).ok());
  std::optional<PooledQp> taken = pool->TakeReady();
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->psn, 1u);
  EXPECT_FALSE(pool->TakeReady().has_value());
  const PoolStats stats = pool->stats();
  EXPECT_EQ(stats.created, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.ready, 0);
}

TEST_F(QpPoolTest, AReturnedQpIsTheNextOneTaken) {
  std::unique_ptr<QpPool> pool = MakePool(1, 4);
  ASSERT_TRUE(pool->Fill(2).ok());
  absl::StatusOr<PooledQp> taken = pool->Take();
  ASSERT_TRUE(taken.ok());
  const uint32_t psn = taken->psn;
  pool->Return(*std::move(taken));
  absl::StatusOr<PooledQp> again = pool->Take();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->psn, psn);
  EXPECT_EQ(factory_->resets(), 0);  // Never used: not reset.
}

TEST_F(QpPoolTest, RecycleResetsAndKeepsUpToHigh) {
  std::unique_ptr<QpPool> pool = MakePool(1, 2);
  ASSERT_TRUE(pool->Fill(1).ok());
  std::vector<PooledQp> used;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<PooledQp> taken = pool->Take();
    ASSERT_TRUE(taken.ok());
    used.push_back(*std::move(taken));
  }
  for (PooledQp& qp : used) {
    pool->Recycle(std::move(qp));
  }
  const PoolStats stats = pool->stats();
  EXPECT_EQ(factory_->resets(), 3);
  EXPECT_EQ(stats.recycled, 3u);
  EXPECT_EQ(stats.ready, 2);      // `high`,
  EXPECT_EQ(stats.destroyed, 1u);  // the third one dropped.
}

// A QP recycled with `rest` rests for the quiet period before anyone may
// take it again: its old peer may still send to it (issue 12); one
// recycled without is ready at once.
TEST_F(QpPoolTest, ARecycledQpRestsForTheQuietPeriod) {
  auto factory = std::make_unique<FakeQpFactory>();
  factory_ = factory.get();
  QpPool pool(std::move(factory),
              QpPool::Options{1, 2, /*quiet_period=*/absl::Milliseconds(300)});
  absl::StatusOr<PooledQp> used = pool.Take();  // Created: the pool is empty.
  ASSERT_TRUE(used.ok());
  const uint32_t used_psn = used->psn;
  pool.Recycle(*std::move(used), /*rest=*/true);
  EXPECT_EQ(pool.stats().resting, 1);
  EXPECT_EQ(pool.stats().ready, 0);
  absl::StatusOr<PooledQp> fresh = pool.Take();  // Not the resting one.
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->psn, used_psn);
  // Bounded like ready ones: resting + ready never pass `high`.
  pool.Recycle(*std::move(fresh), /*rest=*/true);
  absl::StatusOr<PooledQp> third = pool.Take();
  ASSERT_TRUE(third.ok());
  pool.Recycle(*std::move(third), /*rest=*/true);
  EXPECT_EQ(pool.stats().resting, 2);
  EXPECT_EQ(pool.stats().destroyed, 1u);

  absl::SleepFor(absl::Milliseconds(350));
  absl::StatusOr<PooledQp> rested = pool.Take();
  ASSERT_TRUE(rested.ok());
  EXPECT_EQ(pool.stats().resting, 0);
  EXPECT_EQ(pool.stats().ready, 1);
  EXPECT_EQ(pool.stats().hits, 1u);
  pool.Recycle(*std::move(rested));  // The peer closed first: no rest.
  EXPECT_EQ(pool.stats().resting, 0);
  EXPECT_EQ(pool.stats().ready, 2);
}

// A QP recycled while Fill() creates one must not take the pool past the
// count (a fault test saw a service's pool end one QP over its high).
TEST_F(QpPoolTest, ARecycleDuringAFillDoesNotOverfill) {
  std::unique_ptr<QpPool> pool = MakePool(1, 1);
  ASSERT_TRUE(pool->Fill(1).ok());
  absl::StatusOr<PooledQp> taken = pool->Take();
  ASSERT_TRUE(taken.ok());
  factory_->set_hold_create(true);
  std::thread filler([&] { EXPECT_TRUE(pool->Fill(1).ok()); });
  ASSERT_TRUE(factory_->WaitUntilCreating());
  pool->Recycle(*std::move(taken));  // The pool is at its count again.
  factory_->set_hold_create(false);
  filler.join();
  const PoolStats stats = pool->stats();
  EXPECT_EQ(stats.ready, 1);
  EXPECT_EQ(stats.destroyed, 1u);  // The QP created too late.
}

TEST_F(QpPoolTest, AQpThatCannotBeResetIsDestroyed) {
  std::unique_ptr<QpPool> pool = MakePool(1, 4);
  absl::StatusOr<PooledQp> taken = pool->Take();
  ASSERT_TRUE(taken.ok());
  factory_->set_fail_reset(true);
  pool->Recycle(*std::move(taken));
  const PoolStats stats = pool->stats();
  EXPECT_EQ(stats.recycled, 0u);
  EXPECT_EQ(stats.destroyed, 1u);
  EXPECT_EQ(stats.ready, 0);
}

TEST_F(QpPoolTest, TheRefillThreadRefillsToHighOnceBelowLow) {
  std::unique_ptr<QpPool> pool = MakePool(2, 5);
  ASSERT_TRUE(pool->Fill(2).ok());
  pool->StartRefill();
  // At `low`: nothing to do yet.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(pool->stats().ready, 2);
  // One below `low`: refilled to `high`.
  ASSERT_TRUE(pool->Take().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (pool->stats().ready < 5 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(pool->stats().ready, 5);
  EXPECT_EQ(pool->stats().created, 6u);
}

int ThreadsNamed(const std::string& name) {
  const std::vector<std::string> names =
      ::swift::testing::ThreadStatusFields(getpid(), "Name:\t");
  return static_cast<int>(std::count(names.begin(), names.end(), name));
}

// An application's operator tells libswift's threads from its own.
TEST_F(QpPoolTest, TheRefillThreadIsNamedAndGoesWithThePool) {
  std::unique_ptr<QpPool> pool = MakePool(1, 3);
  pool->StartRefill();
  // The thread names itself when it first runs.
  EXPECT_TRUE(::swift::testing::Eventually(
      [] { return ThreadsNamed("swift-qp-refill") > 0; }, absl::Seconds(10)));
  EXPECT_EQ(ThreadsNamed("swift-qp-refill"), 1);
  pool.reset();
  EXPECT_EQ(ThreadsNamed("swift-qp-refill"), 0);
}

TEST_F(QpPoolTest, DestroyingThePoolStopsTheRefillThread) {
  std::unique_ptr<QpPool> pool = MakePool(1, 3);
  pool->StartRefill();
  pool.reset();  // Joins; must not hang.
  SUCCEED();
}

}  // namespace
}  // namespace swift
