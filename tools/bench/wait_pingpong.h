// The threads of the wait-mode benchmark (tools/bench/run wait_modes): each
// drives one side of one WaitPairs pair and waits for its completions
// with a swift::CqWaiter in the mode under test.
//
//   client  sends a ping (an 8-byte inline SEND carrying a sequence number)
//           and waits until the pong with that number comes back: one
//           round trip, timed from the post to the pong returned by Wait();
//   server  waits for a ping, re-posts the receive, sends the same number
//           back;
//   idle    only waits, with no traffic, until one release message.
// Sends are signaled one in kSignalEvery (their completions are consumed
// by the same Wait() calls), as perftest's latency tests do, so that the
// waits are for receives.
//
// Every thread creates its waiter itself (a dispatcher waiter belongs to the
// core of the thread that creates it), reports ready, blocks until the
// start, and runs until the phase reaches kExit; a thread whose run failed
// records the error and parks (sleeping) until then, so that no thread ends
// before the measurement's last reading of its CPU clock.
//
// Thread-safety: one RunWaitThread() per side; PingPongShared is shared.
#ifndef SWIFT_TOOLS_BENCH_WAIT_PINGPONG_H_
#define SWIFT_TOOLS_BENCH_WAIT_PINGPONG_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "swift/wait.h"
#include "tools/bench/wait_pairs.h"

namespace swift::bench {

// One send in this many is signaled.
inline constexpr int kSignalEvery = 16;

// The run's phases, in order. Round trips and samples count only when they
// complete in kMeasure.
enum Phase : int {
  kWarmup = 0,
  kMeasure = 1,
  kCooldown = 2,  // Traffic continues; nothing is counted.
  kExit = 3,
};

enum class Role { kClient, kServer, kIdle };

// What the threads of one run share.
struct PingPongShared {
  explicit PingPongShared(int threads) : ready(threads) {}

  std::atomic<int> phase{kWarmup};
  absl::BlockingCounter ready;  // Each thread once its waiter exists.
  absl::Notification start;
  std::atomic<int> exited{0};  // Threads that returned.
  // The timeout of each Wait() call: how soon a waiting thread notices
  // kExit (and how a busy poller's collapse stays bounded).
  absl::Duration wait_timeout = absl::Milliseconds(250);
};

// What one thread did.
struct ThreadRecord {
  std::vector<double> rtt_us;  // client: round trips ending in kMeasure.
  uint64_t measured = 0;       // Round trips (client) or pongs (server)
                               // that ended in kMeasure.
  uint64_t total = 0;          // The same over the whole run.
  uint64_t completions = 0;    // Completions Wait() returned.
  uint64_t timeouts = 0;       // Wait() calls that timed out.
  swift::WaitStats stats;      // The waiter's, at the end of the run.
  std::string error;           // The first failure; empty if none.
};

// RunWaitThread()
//
// The body of one thread: creates a waiter for `side`'s CQ with `options`,
// counts down `shared.ready`, waits for `shared.start`, then plays `role`
// until kExit, filling `record`; always increments `shared.exited` last.
void RunWaitThread(Role role, WaitSide& side, const swift::WaitOptions& options,
                   PingPongShared& shared, ThreadRecord& record);

}  // namespace swift::bench

#endif  // SWIFT_TOOLS_BENCH_WAIT_PINGPONG_H_
