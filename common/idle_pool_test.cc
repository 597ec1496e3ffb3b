#include "common/idle_pool.h"

#include <memory>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

// Counts live items, so the tests see which ones the pool closed.
struct Tracked {
  explicit Tracked(int id, int* live) : id(id), live(live) { ++*live; }
  ~Tracked() { --*live; }
  int id;
  int* live;
};
using Item = std::unique_ptr<Tracked>;

const absl::Time kStart = absl::FromUnixSeconds(1000);

TEST(IdlePoolTest, TakesTheMostRecentlyReturnedFirst) {
  int live = 0;
  IdlePool<Item> pool;
  pool.Give(std::make_unique<Tracked>(1, &live), kStart);
  pool.Give(std::make_unique<Tracked>(2, &live), kStart);
  std::optional<Item> item = pool.Take(kStart);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ((*item)->id, 2);
  EXPECT_EQ(pool.size(), 1u);
}

TEST(IdlePoolTest, EmptyPoolGivesNothing) {
  IdlePool<Item> pool;
  EXPECT_FALSE(pool.Take(kStart).has_value());
}

TEST(IdlePoolTest, FullPoolClosesTheOldest) {
  int live = 0;
  IdlePool<Item> pool(IdlePool<Item>::Options{2, absl::Seconds(60)});
  for (int id = 1; id <= 5; ++id) {
    pool.Give(std::make_unique<Tracked>(id, &live), kStart);
  }
  EXPECT_EQ(live, 2);
  EXPECT_EQ((*pool.Take(kStart))->id, 5);
  EXPECT_EQ((*pool.Take(kStart))->id, 4);
  EXPECT_FALSE(pool.Take(kStart).has_value());
  EXPECT_EQ(live, 0);
}

TEST(IdlePoolTest, ItemsIdleTooLongAreClosed) {
  int live = 0;
  IdlePool<Item> pool(IdlePool<Item>::Options{8, absl::Seconds(10)});
  pool.Give(std::make_unique<Tracked>(1, &live), kStart);
  pool.Give(std::make_unique<Tracked>(2, &live), kStart + absl::Seconds(8));
  std::optional<Item> item = pool.Take(kStart + absl::Seconds(12));
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ((*item)->id, 2);
  EXPECT_EQ(live, 1);  // 1 expired and closed; 2 is ours.
  item.reset();
  pool.Give(std::make_unique<Tracked>(3, &live), kStart);
  EXPECT_FALSE(pool.Take(kStart + absl::Minutes(1)).has_value());
  EXPECT_EQ(live, 0);
}

TEST(IdlePoolTest, ZeroCapacityKeepsNothing) {
  int live = 0;
  IdlePool<Item> pool(IdlePool<Item>::Options{0, absl::Seconds(10)});
  pool.Give(std::make_unique<Tracked>(1, &live), kStart);
  EXPECT_EQ(live, 0);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(IdlePoolTest, ClearClosesEverything) {
  int live = 0;
  IdlePool<Item> pool;
  pool.Give(std::make_unique<Tracked>(1, &live), kStart);
  pool.Give(std::make_unique<Tracked>(2, &live), kStart);
  pool.Clear();
  EXPECT_EQ(live, 0);
}

}  // namespace
}  // namespace swift
