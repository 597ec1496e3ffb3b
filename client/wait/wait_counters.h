// WaitCounters: a waiter's WaitStats as relaxed atomics, written by the
// owner thread (and a dispatcher) and read by anyone through stats().
#ifndef SWIFT_CLIENT_WAIT_WAIT_COUNTERS_H_
#define SWIFT_CLIENT_WAIT_WAIT_COUNTERS_H_

#include <atomic>
#include <cstdint>

#include "swift/wait.h"

namespace swift::wait_internal {

struct WaitCounters {
  std::atomic<uint64_t> waits{0};
  std::atomic<uint64_t> completions{0};
  std::atomic<uint64_t> sleeps{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> ack_calls{0};
  std::atomic<uint64_t> spin_hits{0};
  std::atomic<uint64_t> migrations{0};

  static void Add(std::atomic<uint64_t>& counter, uint64_t value = 1) {
    counter.fetch_add(value, std::memory_order_relaxed);
  }

  WaitStats Snapshot() const {
    WaitStats stats;
    stats.waits = waits.load(std::memory_order_relaxed);
    stats.completions = completions.load(std::memory_order_relaxed);
    stats.sleeps = sleeps.load(std::memory_order_relaxed);
    stats.events = events.load(std::memory_order_relaxed);
    stats.ack_calls = ack_calls.load(std::memory_order_relaxed);
    stats.spin_hits = spin_hits.load(std::memory_order_relaxed);
    stats.migrations = migrations.load(std::memory_order_relaxed);
    return stats;
  }
};

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_WAIT_COUNTERS_H_
