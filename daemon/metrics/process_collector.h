// ProcessCollector: swiftd's own cost, read from /proc at scrape time:
// open descriptors and their limit, threads, resident and virtual memory,
// CPU seconds (user + system) and the start time, under the names every
// Prometheus client library uses (process_*), so that the usual dashboards
// and alerts work unchanged.
//
// Nothing is sampled between scrapes: a scrape costs a few small reads of
// /proc and one directory listing of the fd table. Thread-safe (no state).
#ifndef SWIFT_DAEMON_METRICS_PROCESS_COLLECTOR_H_
#define SWIFT_DAEMON_METRICS_PROCESS_COLLECTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace swift {

class ProcessCollector final : public prometheus::Collectable {
 public:
  // What one read of /proc/<pid> found; a value that could not be read is
  // nullopt and its metric is left out of the scrape.
  struct Sample {
    std::optional<double> open_fds;
    std::optional<double> max_fds;
    std::optional<double> threads;
    std::optional<double> resident_bytes;
    std::optional<double> virtual_bytes;
    std::optional<double> cpu_seconds;
    std::optional<double> start_time_seconds;
  };

  // Reads `proc_dir` (default: this process, "/proc/self"); the boot time
  // comes from <proc root>/stat beside it.
  explicit ProcessCollector(std::string proc_dir = "/proc/self");

  // Reads the files now.
  Sample Read() const;

  // prometheus::Collectable: the process_* families of Read().
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string proc_dir_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_PROCESS_COLLECTOR_H_
