// Host tests for PreconnectPool's policy with fake hooks (no device, no
// swiftd): targets and bounds, checked and probed takes, what a failed
// check or probe drops, pruning, refill with back-off, expiry, and that
// every pair made is closed exactly once.
#include "client/preconnect_pool.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/testing/eventually.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

// Stands in for swiftd and the peers: makes "connections" with ids, says
// which have ended, answers probes, and counts closes.
class FakeWorld {
 public:
  PreconnectPool::Hooks Hooks() {
    PreconnectPool::Hooks hooks;
    hooks.connect =
        [this](
            const std::string& host, const std::string& service,
            absl::Duration) -> absl::StatusOr<std::unique_ptr<ConnectionImpl>> {
      absl::MutexLock lock(&mu_);
      if (!connect_error_.ok()) {
        ++failed_connects_;
        return connect_error_;
      }
      const uint64_t id = next_id_++;
      ++open_;
      return std::make_unique<ConnectionImpl>(
          PooledQp(), /*mr=*/nullptr, verbs::QpEndpoint(), id,
          [this, id](PooledQp) {
            absl::MutexLock lock(&mu_);
            EXPECT_TRUE(closed_.insert(id).second) << "closed twice: " << id;
            --open_;
            return absl::OkStatus();
          });
    };
    hooks.check = [this](const std::vector<uint64_t>& ids)
        -> absl::StatusOr<std::vector<std::string>> {
      absl::MutexLock lock(&mu_);
      ++checks_;
      if (!check_error_.ok()) {
        return check_error_;
      }
      std::vector<std::string> states;
      for (uint64_t id : ids) {
        auto it = ended_.find(id);
        states.push_back(it == ended_.end() ? "" : it->second);
      }
      return states;
    };
    hooks.generation = [this]() -> std::optional<PreconnectPool::ChangeCount> {
      absl::MutexLock lock(&mu_);
      if (!generation_.has_value()) {
        return std::nullopt;
      }
      return PreconnectPool::ChangeCount{watch_, *generation_};
    };
    hooks.post_probe = [this](const ConnectionImpl& pair) {
      std::function<void()> during_take;
      {
        absl::MutexLock lock(&mu_);
        ++posted_;
        during_take = std::exchange(during_take_, nullptr);
      }
      if (during_take) during_take();
      return absl::OkStatus();
    };
    hooks.await_probe = [this](const ConnectionImpl& pair) {
      absl::MutexLock lock(&mu_);
      ++probes_;
      EXPECT_GE(posted_, probes_) << "awaited a probe never posted";
      return peer_gone_ ? absl::DeadlineExceededError("no answer")
                        : absl::OkStatus();
    };
    return hooks;
  }

  // As swiftd does: the connection ends and, when a change page is
  // watched, its count grows.
  void End(uint64_t id, std::string why) {
    absl::MutexLock lock(&mu_);
    ended_[id] = std::move(why);
    if (generation_.has_value()) {
      ++*generation_;
    }
  }
  // What a restarted swiftd says of a connection made with the one before:
  // it never heard of it, and counts no change for it.
  void Forget(uint64_t id) {
    absl::MutexLock lock(&mu_);
    ended_[id] = absl::StrCat("no connection ", id,
                              " here (made before this swiftd restarted)");
  }
  // swiftd hands out a change page (count 0): until then, unknown. Again:
  // as after swiftd restarted, a new watch whose count starts at 0 again.
  void WatchChanges() {
    absl::MutexLock lock(&mu_);
    generation_ = 0;
    ++watch_;
  }
  void set_connect_error(absl::Status error) {
    absl::MutexLock lock(&mu_);
    connect_error_ = std::move(error);
  }
  // Runs once, in the next take, after the pair left the pool.
  void DuringNextTake(std::function<void()> run) {
    absl::MutexLock lock(&mu_);
    during_take_ = std::move(run);
  }
  void set_peer_gone(bool gone) {
    absl::MutexLock lock(&mu_);
    peer_gone_ = gone;
  }
  int open() {
    absl::MutexLock lock(&mu_);
    return open_;
  }
  int failed_connects() {
    absl::MutexLock lock(&mu_);
    return failed_connects_;
  }
  int probes() {
    absl::MutexLock lock(&mu_);
    return probes_;
  }

 private:
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int checks_ ABSL_GUARDED_BY(mu_) = 0;
  int probes_ ABSL_GUARDED_BY(mu_) = 0;
  int posted_ ABSL_GUARDED_BY(mu_) = 0;
  int failed_connects_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status connect_error_ ABSL_GUARDED_BY(mu_);
  absl::Status check_error_ ABSL_GUARDED_BY(mu_);
  bool peer_gone_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<uint64_t> generation_ ABSL_GUARDED_BY(mu_);
  uint64_t watch_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> during_take_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::string> ended_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<uint64_t> closed_ ABSL_GUARDED_BY(mu_);
};

class PreconnectPoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<PreconnectPool> MakePool(int max_pairs = 8) {
    PreconnectPool::Options options;
    options.max_pairs = max_pairs;
    return std::make_unique<PreconnectPool>(options, world_.Hooks());
  }
  static constexpr absl::Duration kSoon = absl::Seconds(5);

  FakeWorld world_;  // Outlives the pools.
};

TEST_F(PreconnectPoolTest, PrewarmConnectsNowAndTakeHandsOutCheckedPairs) {
  auto pool = MakePool();
  absl::StatusOr<int> ready = pool->Prewarm("b", "kv", 3, kSoon);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, 3);
  EXPECT_EQ(world_.open(), 3);

  PreconnectPool::Taken taken = pool->Take("b", "kv");
  ASSERT_NE(taken.connection, nullptr) << taken.why_not;
  EXPECT_EQ(taken.connection->id(), 3u);  // The newest.
  EXPECT_EQ(world_.probes(), 1);
  EXPECT_EQ(pool->stats().hits, 1u);
  // Not prewarmed: nothing, and not a miss.
  EXPECT_EQ(pool->Take("b", "other").connection, nullptr);
  EXPECT_EQ(pool->stats().misses, 0u);

  // The refill thread brings the service back to its target.
  EXPECT_TRUE(testing::Eventually([&] { return pool->stats().ready == 3; }));
  taken.connection.reset();  // The application closes it.
  pool.reset();
  EXPECT_EQ(world_.open(), 0);  // Every pair closed, none twice.
}

TEST_F(PreconnectPoolTest, APairItsServiceEndedIsNeverHandedOut) {
  auto pool = MakePool();
  ASSERT_TRUE(pool->Prewarm("b", "kv", 2, kSoon).ok());
  world_.End(2, "service 'kv' on b closed the connection");
  PreconnectPool::Taken taken = pool->Take("b", "kv");
  ASSERT_NE(taken.connection, nullptr);
  // 2 was dropped (by the take, or by the refill thread's prune, whose
  // refill may then have made a newer pair than 1).
  EXPECT_NE(taken.connection->id(), 2u) << "an ended pair was handed out";
  const PreconnectStats stats = pool->stats();
  EXPECT_EQ(stats.discarded, 1u);
  EXPECT_TRUE(absl::StrContains(stats.last_discard_reason, "closed"))
      << stats.last_discard_reason;
  EXPECT_EQ(world_.probes(), 1);  // Only the live one was probed.
}

TEST_F(PreconnectPoolTest, WithoutAChangePageEveryTakeAsksSwiftd) {
  auto pool = MakePool();
  ASSERT_TRUE(pool->Prewarm("b", "kv", 2, kSoon).ok());
  ASSERT_NE(pool->Take("b", "kv").connection, nullptr);
  ASSERT_NE(pool->Take("b", "kv").connection, nullptr);
  EXPECT_EQ(pool->stats().checks_saved, 0u);
}

TEST_F(PreconnectPoolTest, TakesNeedNoCallWhileTheChangePageStandsStill) {
  world_.WatchChanges();
  auto pool = MakePool();
  ASSERT_TRUE(pool->Prewarm("b", "kv", 3, kSoon).ok());
  PreconnectPool::Taken taken = pool->Take("b", "kv");
  ASSERT_NE(taken.connection, nullptr) << taken.why_not;
  EXPECT_EQ(world_.probes(), 1);  // The probe still runs on every take.
  EXPECT_EQ(pool->stats().checks_saved, 1u);
}

TEST_F(PreconnectPoolTest, AfterAChangeTakesAskUntilAPruneCoversEveryPair) {
  world_.WatchChanges();
  auto pool = MakePool();
  ASSERT_TRUE(pool->Prewarm("b", "kv", 3, kSoon).ok());
  // swiftd finds the newest pair ended: the page moves on.
  world_.End(3, "service 'kv' on b closed the connection");
  // Take() asked about 3 and dropped it (or the refill thread's prune did
  // first, and its refill may have made a newer pair since).
  PreconnectPool::Taken taken = pool->Take("b", "kv");
  ASSERT_NE(taken.connection, nullptr) << taken.why_not;
  EXPECT_NE(taken.connection->id(), 3u) << "an ended pair was handed out";
  EXPECT_EQ(pool->stats().discarded, 1u);
  // A prune asks about every pooled pair at the new count: trusted again.
  pool->RunRound();
  const uint64_t saved = pool->stats().checks_saved;
  ASSERT_NE(pool->Take("b", "kv").connection, nullptr);
  EXPECT_EQ(pool->stats().checks_saved, saved + 1);
}

// A prune that runs while a pair is out of the pool, being taken, vouches
// for the pairs left, not for that one: the take still asks about it.
// (CI caught the pool comparing against the prune's newer count.)
TEST_F(PreconnectPoolTest, APruneDuringATakeDoesNotVouchForThePairTaken) {
  world_.WatchChanges();
  auto pool = MakePool();
  ASSERT_TRUE(pool->Prewarm("b", "kv", 3, kSoon).ok());
  world_.End(3, "service 'kv' on b closed the connection");
  world_.DuringNextTake([&] { pool->RunRound(); });
  PreconnectPool::Taken taken = pool->Take("b", "kv");
  ASSERT_NE(taken.connection, nullptr) << taken.why_not;
  EXPECT_NE(taken.connection->id(), 3u) << "an ended pair was handed out";
}

// swiftd restarted: the session's new watch counts from 0 again, where the
// pool last saw 0 from the old one. Its pairs were made with the old
// swiftd: never trusted on the new one's count.
TEST_F(PreconnectPoolTest, ANewWatchVouchesForNoPairMadeBeforeIt) {
  world_.WatchChanges();
  auto pool = MakePool();
  ASSERT_TRUE(pool->Prewarm("b", "kv", 2, kSoon).ok());
  world_.set_connect_error(absl::UnavailableError("swiftd restarting"));
  world_.WatchChanges();  // Count 0 again, as the pool last saw.
  world_.Forget(1);
  world_.Forget(2);
  // Dropped by Take() (or by the refill thread's prune just before).
  EXPECT_EQ(pool->Take("b", "kv").connection, nullptr);
  EXPECT_EQ(pool->stats().discarded, 2u);
  EXPECT_EQ(pool->stats().checks_saved, 0u);
}

TEST_F(PreconnectPoolTest, AFailedProbeDropsEveryPairOfTheService) {
  auto pool = MakePool();
  ASSERT_TRUE(pool->Prewarm("b", "kv", 3, kSoon).ok());
  ASSERT_TRUE(pool->Prewarm("c", "kv", 1, kSoon).ok());
  world_.set_peer_gone(true);
  world_.set_connect_error(absl::UnavailableError("b is down"));
  PreconnectPool::Taken taken = pool->Take("b", "kv");
  EXPECT_EQ(taken.connection, nullptr);
  EXPECT_TRUE(absl::StrContains(taken.why_not, "probe")) << taken.why_not;
  EXPECT_EQ(world_.probes(), 1);  // One probe condemned the three.
  EXPECT_EQ(pool->stats().discarded, 3u);
  EXPECT_EQ(pool->stats().ready, 1);  // c's pair stays.
  EXPECT_EQ(world_.open(), 1);
}

TEST_F(PreconnectPoolTest, TargetsAreBounded) {
  auto pool = MakePool(/*max_pairs=*/4);
  EXPECT_TRUE(
      absl::IsInvalidArgument(pool->Prewarm("b", "kv", 5, kSoon).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(pool->Prewarm("b", "kv", -1, kSoon).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(pool->Prewarm("", "kv", 1, kSoon).status()));
  ASSERT_TRUE(pool->Prewarm("b", "kv", 3, kSoon).ok());
  absl::Status over = pool->Prewarm("b", "other", 2, kSoon).status();
  EXPECT_TRUE(absl::IsResourceExhausted(over)) << over;
  EXPECT_TRUE(absl::StrContains(over.message(), "max_preconnected")) << over;
  // Changing one service's own target counts it once.
  ASSERT_TRUE(pool->Prewarm("b", "kv", 4, kSoon).ok());
  EXPECT_EQ(world_.open(), 4);
  // Fewer: the extra pairs are closed; 0: all of them.
  ASSERT_EQ(*pool->Prewarm("b", "kv", 1, kSoon), 1);
  EXPECT_EQ(world_.open(), 1);
  ASSERT_EQ(*pool->Prewarm("b", "kv", 0, kSoon), 0);
  EXPECT_EQ(world_.open(), 0);
  EXPECT_EQ(pool->stats().target, 0);
}

TEST_F(PreconnectPoolTest, APrewarmThatConnectsNothingSaysWhy) {
  auto pool = MakePool();
  world_.set_connect_error(absl::NotFoundError("no service 'kv' there"));
  absl::Status status = pool->Prewarm("b", "kv", 2, kSoon).status();
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_EQ(pool->stats().refill_errors, 1u);
  // The background refill backs off rather than hammering the peer.
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_LE(world_.failed_connects(), 5);
  // Once the service exists, the pool fills.
  world_.set_connect_error(absl::OkStatus());
  EXPECT_TRUE(testing::Eventually([&] { return pool->stats().ready == 2; }));
}

TEST_F(PreconnectPoolTest, TheRefillThreadPrunesEndedPairs) {
  auto pool = MakePool();
  ASSERT_TRUE(pool->Prewarm("b", "kv", 2, kSoon).ok());
  world_.End(1, "swiftd on b restarted");
  pool->RunRound();
  const PreconnectStats stats = pool->stats();
  EXPECT_EQ(stats.discarded, 1u);
  EXPECT_EQ(stats.ready, 2);  // Pruned and refilled in the same round.
  EXPECT_EQ(world_.probes(), 0);
}

TEST_F(PreconnectPoolTest, AnIdleServiceExpires) {
  PreconnectPool::Options options;
  options.idle_timeout = absl::Milliseconds(100);
  PreconnectPool pool(options, world_.Hooks());
  ASSERT_TRUE(pool.Prewarm("b", "kv", 2, kSoon).ok());
  absl::SleepFor(absl::Milliseconds(150));
  pool.RunRound();
  EXPECT_EQ(pool.stats().ready, 0);
  EXPECT_EQ(pool.stats().target, 0);
  EXPECT_EQ(world_.open(), 0);
  EXPECT_TRUE(absl::StrContains(pool.stats().last_discard_reason, "took"));
}

TEST_F(PreconnectPoolTest, ConcurrentTakesNeverShareAPair) {
  auto pool = MakePool(/*max_pairs=*/32);
  ASSERT_TRUE(pool->Prewarm("b", "kv", 32, kSoon).ok());
  absl::Mutex mu;
  absl::flat_hash_set<uint64_t> seen;
  std::vector<std::unique_ptr<ConnectionImpl>> held;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        PreconnectPool::Taken taken = pool->Take("b", "kv");
        if (taken.connection == nullptr) {
          continue;
        }
        absl::MutexLock lock(&mu);
        EXPECT_TRUE(seen.insert(taken.connection->id()).second);
        held.push_back(std::move(taken.connection));
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_GE(held.size(), 24u);
  held.clear();
  pool.reset();
  EXPECT_EQ(world_.open(), 0);
}

}  // namespace
}  // namespace swift
