// InvocationStats: what the Control API lists of the invocations that went
// through swiftd (WorkerInfo.by_mode), per function and per mode asked for
// (COLD, WARM, FORK): how many ended, how many failed, and a latency
// histogram (latency_histogram.h). Kept whether or not metrics are on
// (daemon/metrics counts the same invocations for Prometheus).
//
// Memory is bounded: a fixed size per function (no per-invocation
// storage), Forget() drops a function once it is unregistered, and at
// most kMaxFunctions are tracked (quotas bound registered functions far
// below that; the cap only stops names of unregistered functions whose
// last invocation ended after Forget() from piling up).
//
// Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_INVOCATION_STATS_H_
#define SWIFT_DAEMON_FUNCTIONS_INVOCATION_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/functions/latency_histogram.h"
#include "proto/swift.pb.h"

namespace swift {

class InvocationStats final {
 public:
  static constexpr size_t kMaxFunctions = 65536;

  InvocationStats() = default;
  InvocationStats(const InvocationStats&) = delete;
  InvocationStats& operator=(const InvocationStats&) = delete;

  // Record()
  //
  // One invocation of `function` in `mode` (MODE_UNSPECIFIED counts as
  // FORK) that ended with `result` after `elapsed`. Ignored for a function
  // not yet tracked when kMaxFunctions are.
  void Record(const std::string& function, v1::InvokeRequest::Mode mode,
              const absl::Status& result, absl::Duration elapsed);

  // Forget(): drops `function`'s counts (it was unregistered: a function
  // registered again under its name starts from 0).
  void Forget(const std::string& function);

  // Of()
  //
  // `function`'s counts, one entry per mode in the order COLD, WARM, FORK
  // (zeros, with the histogram's bounds, for a function never invoked).
  std::vector<v1::InvocationModeStats> Of(const std::string& function) const;

  // How many functions are tracked.
  size_t size() const;

 private:
  struct ModeCounts {
    uint64_t invocations = 0;
    uint64_t failures = 0;
    LatencyHistogram latency;
  };
  // Indexed by ModeIndex(): COLD, WARM, FORK.
  using PerMode = std::array<ModeCounts, 3>;

  static size_t ModeIndex(v1::InvokeRequest::Mode mode);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, PerMode> functions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_INVOCATION_STATS_H_
