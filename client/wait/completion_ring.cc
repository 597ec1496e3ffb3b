// CompletionRing implementation; see completion_ring.h.
#include "client/wait/completion_ring.h"

#include <algorithm>

namespace swift::wait_internal {
namespace {

uint64_t PowerOfTwoAtLeast(int value) {
  uint64_t size = 1;
  while (size < static_cast<uint64_t>(std::max(value, 1))) {
    size <<= 1;
  }
  return size;
}

}  // namespace

CompletionRing::CompletionRing(int min_capacity)
    : slots_(PowerOfTwoAtLeast(min_capacity)), mask_(slots_.size() - 1) {}

int CompletionRing::free_slots() const {
  const uint64_t fill = pushed_.load(std::memory_order_relaxed) -
                        popped_.load(std::memory_order_acquire);
  return static_cast<int>(slots_.size() - fill);
}

void CompletionRing::Push(const ibv_wc* wcs, int count) {
  uint64_t pushed = pushed_.load(std::memory_order_relaxed);
  for (int i = 0; i < count; ++i, ++pushed) {
    slots_[pushed & mask_] = wcs[i];
  }
  // Release: the slots' contents are visible before the new count is.
  pushed_.store(pushed, std::memory_order_release);
}

int CompletionRing::Pop(ibv_wc* out, int max_entries) {
  uint64_t popped = popped_.load(std::memory_order_relaxed);
  const uint64_t pushed = pushed_.load(std::memory_order_acquire);
  const int count =
      static_cast<int>(std::min<uint64_t>(pushed - popped, max_entries));
  for (int i = 0; i < count; ++i, ++popped) {
    out[i] = slots_[popped & mask_];
  }
  // Release: the slots are read before the producer may overwrite them.
  popped_.store(popped, std::memory_order_release);
  return count;
}

bool CompletionRing::empty() const {
  return pushed_.load(std::memory_order_acquire) ==
         popped_.load(std::memory_order_acquire);
}

}  // namespace swift::wait_internal
