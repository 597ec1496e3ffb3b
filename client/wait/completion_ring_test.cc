// CompletionRing: order, wrap-around, capacity, and one producer and one
// consumer thread moving a million completions without loss or reorder.
#include "client/wait/completion_ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace swift::wait_internal {
namespace {

ibv_wc Completion(uint64_t id) {
  ibv_wc wc = {};
  wc.wr_id = id;
  return wc;
}

TEST(CompletionRingTest, HoldsAtLeastWhatWasAskedRoundedToAPowerOfTwo) {
  EXPECT_EQ(CompletionRing(1).capacity(), 1);
  EXPECT_EQ(CompletionRing(129).capacity(), 256);
  EXPECT_EQ(CompletionRing(256).capacity(), 256);
}

TEST(CompletionRingTest, PopsInOrderAcrossTheWrap) {
  CompletionRing ring(4);
  uint64_t next_in = 0;
  uint64_t next_out = 0;
  for (int round = 0; round < 10; ++round) {
    ibv_wc in[3] = {Completion(next_in), Completion(next_in + 1),
                    Completion(next_in + 2)};
    ASSERT_GE(ring.free_slots(), 3);
    ring.Push(in, 3);
    next_in += 3;
    ibv_wc out[2];
    int popped = ring.Pop(out, 2);
    ASSERT_EQ(popped, 2);
    EXPECT_EQ(out[0].wr_id, next_out++);
    EXPECT_EQ(out[1].wr_id, next_out++);
    popped = ring.Pop(out, 2);
    ASSERT_EQ(popped, 1);
    EXPECT_EQ(out[0].wr_id, next_out++);
    EXPECT_TRUE(ring.empty());
  }
}

TEST(CompletionRingTest, FreeSlotsCountsDownToZeroWhenFull) {
  CompletionRing ring(4);
  const ibv_wc one = Completion(7);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ring.free_slots(), 4 - i);
    ring.Push(&one, 1);
  }
  EXPECT_EQ(ring.free_slots(), 0);
  ibv_wc out[8];
  EXPECT_EQ(ring.Pop(out, 8), 4);
  EXPECT_EQ(ring.free_slots(), 4);
}

TEST(CompletionRingTest, AProducerAndAConsumerThreadLoseNothing) {
  constexpr uint64_t kTotal = 1000000;
  CompletionRing ring(64);
  std::thread producer([&ring] {
    uint64_t next = 0;
    while (next < kTotal) {
      const int room = ring.free_slots();
      ibv_wc batch[16];
      int count = 0;
      while (count < room && count < 16 && next < kTotal) {
        batch[count++] = Completion(next++);
      }
      ring.Push(batch, count);
    }
  });
  uint64_t expected = 0;
  ibv_wc out[16];
  while (expected < kTotal) {
    const int count = ring.Pop(out, 16);
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(out[i].wr_id, expected++);
    }
  }
  producer.join();
  EXPECT_TRUE(ring.empty());
}

}  // namespace
}  // namespace swift::wait_internal
