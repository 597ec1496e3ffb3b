// SpinSlot implementation; see spin_slot.h.
#include "common/spin_slot.h"

#include <sched.h>

#include <algorithm>
#include <atomic>

namespace swift {
namespace {

std::atomic<int> spinners{0};

}  // namespace

int SpinSlot::Capacity() {
  static const int capacity = [] {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
      return 1;
    }
    return std::max(CPU_COUNT(&allowed), 1);
  }();
  return capacity;
}

SpinSlot SpinSlot::TryTake() {
  if (spinners.fetch_add(1, std::memory_order_relaxed) < Capacity()) {
    return SpinSlot(true);
  }
  spinners.fetch_sub(1, std::memory_order_relaxed);
  return SpinSlot(false);
}

SpinSlot::~SpinSlot() {
  if (taken_) {
    spinners.fetch_sub(1, std::memory_order_relaxed);
  }
}

void MaybeYield(int polls) {
  // With nothing else runnable on this core the call returns at once;
  // otherwise the thread that would complete our wait may run now.
  if (polls > 0 && polls % kPollsPerYield == 0) {
    sched_yield();
  }
}

}  // namespace swift
