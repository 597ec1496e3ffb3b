// ConnectionSetPool on the host, with no targets (a set is then empty and
// needs no session): prepared sets are taken oldest first, put back in
// front, refilled by the maintenance thread, and a taken set's user gets
// kUnavailable when none is ready and it may not connect.
#include "daemon/worker/connection_set_pool.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace swift {
namespace {

TEST(ConnectionSetPoolTest, FillTakePutBackAndRetire) {
  ConnectionSetPool pool(/*session=*/nullptr, {}, /*prepared=*/2);
  ASSERT_TRUE(pool.Fill(2).ok());
  EXPECT_EQ(pool.prepared_count(), 2);
  EXPECT_EQ(pool.FirstContext(), nullptr) << "no QP in an empty set";
  absl::StatusOr<ConnectionSet> first = pool.Take(false);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<ConnectionSet> second = pool.Take(false);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(pool.Take(false).status().code(), absl::StatusCode::kUnavailable);
  // Connecting now is allowed to a request (here: an empty set).
  EXPECT_TRUE(pool.Take(true).ok());
  pool.PutBack(*std::move(first));
  EXPECT_EQ(pool.prepared_count(), 1);
  pool.Retire(*std::move(second));
  EXPECT_TRUE(pool.SharedLkeys().empty());
}

TEST(ConnectionSetPoolTest, TheMaintenanceThreadRefillsAndStopsWithThePool) {
  ConnectionSetPool pool(/*session=*/nullptr, {}, /*prepared=*/3);
  ASSERT_TRUE(pool.Fill(1).ok());
  pool.StartMaintaining();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (pool.prepared_count() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(pool.prepared_count(), 3);
  ASSERT_TRUE(pool.Take(false).ok());
  while (pool.prepared_count() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(pool.prepared_count(), 3) << "taken sets are replaced";
  // The destructor joins the thread (the test would hang or crash if not).
}

}  // namespace
}  // namespace swift
