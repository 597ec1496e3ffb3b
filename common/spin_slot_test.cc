// SpinSlot: no more spinners than cores; slots come back when released.
#include "common/spin_slot.h"

#include <gtest/gtest.h>

#include <vector>

namespace swift {
namespace {

TEST(SpinSlotTest, AsManySpinnersAsCoresAndNoMore) {
  std::vector<SpinSlot> slots;
  for (int i = 0; i < SpinSlot::Capacity(); ++i) {
    slots.push_back(SpinSlot::TryTake());
    EXPECT_TRUE(slots.back().taken());
  }
  EXPECT_FALSE(SpinSlot::TryTake().taken());
  slots.pop_back();
  EXPECT_TRUE(SpinSlot::TryTake().taken());
}

TEST(SpinSlotTest, AMovedSlotIsReleasedOnce) {
  std::vector<SpinSlot> slots;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < SpinSlot::Capacity(); ++i) {
      SpinSlot slot = SpinSlot::TryTake();
      ASSERT_TRUE(slot.taken());
      slots.push_back(std::move(slot));
    }
    slots.clear();
  }
  EXPECT_TRUE(SpinSlot::TryTake().taken());
}

}  // namespace
}  // namespace swift
