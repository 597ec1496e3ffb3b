// FunctionMetrics: what only the function manager sees as it happens, fed
// by WorkerManager's observers (WorkerManager::Options::observers): every
// invocation that reached a registered function through swiftd, by
// function, mode (fork, warm, cold) and result (its status code name),
// with its latency; and the workers swiftd started, by reason (register,
// cold, restore).
//
// Invocations on direct channels never pass swiftd; their counts come from
// the workers' reports (FunctionCollector). Function names go through a
// LabelCap. Thread-safe.
#ifndef SWIFT_DAEMON_METRICS_FUNCTION_METRICS_H_
#define SWIFT_DAEMON_METRICS_FUNCTION_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/metrics/label_cap.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "proto/swift.pb.h"

namespace swift {

class FunctionMetrics final {
 public:
  // `functions` must outlive this.
  explicit FunctionMetrics(LabelCap* functions);
  FunctionMetrics(const FunctionMetrics&) = delete;
  FunctionMetrics& operator=(const FunctionMetrics&) = delete;

  // ObserveInvocation(): one invocation of `function` in `mode` that
  // ended with `result` after `elapsed`.
  void ObserveInvocation(const std::string& function,
                         v1::InvokeRequest::Mode mode,
                         const absl::Status& result, absl::Duration elapsed);

  // CountWorkerStarted(): a worker process started and reported ready,
  // for `reason` ("register", "cold", "restore").
  void CountWorkerStarted(absl::string_view reason);

  // swift_invocations_total, swift_invocation_duration_seconds and
  // swift_workers_started_total, for the exposer.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // "fork", "warm" or "cold" (MODE_UNSPECIFIED is FORK).
  static const char* ModeName(v1::InvokeRequest::Mode mode);

 private:
  LabelCap* const functions_;
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* invocations_;
  prometheus::Family<prometheus::Histogram>* durations_;
  prometheus::Family<prometheus::Counter>* workers_started_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_FUNCTION_METRICS_H_
