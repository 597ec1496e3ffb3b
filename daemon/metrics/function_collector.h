// FunctionCollector: the registered functions and their workers at scrape
// time, from WorkerManager::List() (daemon/functions): functions by state,
// each function's invocations and failures as its registry and its worker
// count them (direct-channel invocations included), its instances, busy
// ones, spares and prepared connection sets, forks and spare hits; the
// workers swiftd holds; and the workers found crashed.
//
// Crashes are seen here, not counted where they happen: a function whose
// worker exited while it was still registered is listed "exited", and
// each such (function, worker pid) is counted once, on the first scrape
// that sees it. A worker that crashed and was registered again between
// two scrapes is therefore missed. Function names go through a LabelCap.
// Thread-safe.
#ifndef SWIFT_DAEMON_METRICS_FUNCTION_COLLECTOR_H_
#define SWIFT_DAEMON_METRICS_FUNCTION_COLLECTOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "daemon/metrics/label_cap.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "proto/swift.pb.h"

namespace swift {

class FunctionCollector final : public prometheus::Collectable {
 public:
  struct View {
    std::vector<v1::WorkerInfo> functions;
    // Workers held in all (--max_workers).
    uint32_t workers = 0;
  };
  using Source = std::function<View()>;

  // `functions` must outlive the collector.
  FunctionCollector(Source source, LabelCap* functions)
      : source_(std::move(source)), functions_(functions) {}

  // swift_functions{state}, swift_function_invocations_total{function},
  // swift_function_failures_total{function}, swift_function_instances,
  // swift_function_busy_instances, swift_function_spare_instances,
  // swift_function_prepared_sets, swift_function_forks_total,
  // swift_function_spare_hits_total (each {function}), swift_workers,
  // swift_workers_crashed_total.
  std::vector<prometheus::MetricFamily> Collect() const override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const Source source_;
  LabelCap* const functions_;
  mutable absl::Mutex mu_;
  // Exits seen so far, as "function/pid". Bounded by the workers ever
  // started; each entry is a few dozen bytes.
  mutable absl::flat_hash_set<std::string> exits_seen_ ABSL_GUARDED_BY(mu_);
  mutable uint64_t crashed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_FUNCTION_COLLECTOR_H_
