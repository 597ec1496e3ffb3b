// DirectoryCollector: the cluster directory (--directory, daemon/directory)
// at scrape time, from Directory::state(): whether etcd is reachable and
// this host registered, how many hosts the cache holds, the newest etcd
// revision seen, and the counts of leases granted, watches re-read and
// records refused. No labels: one series each.
//
// Thread-safe: the source is called on the scraping thread.
#ifndef SWIFT_DAEMON_METRICS_DIRECTORY_COLLECTOR_H_
#define SWIFT_DAEMON_METRICS_DIRECTORY_COLLECTOR_H_

#include <functional>
#include <utility>
#include <vector>

#include "daemon/directory/directory.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace swift {

class DirectoryCollector final : public prometheus::Collectable {
 public:
  using Source = std::function<Directory::State()>;

  explicit DirectoryCollector(Source source) : source_(std::move(source)) {}

  // swift_directory_reachable, swift_directory_registered,
  // swift_directory_hosts, swift_directory_revision,
  // swift_directory_registrations_total,
  // swift_directory_watch_restarts_total,
  // swift_directory_bad_records_total (README.md, "Metrics").
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Source source_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_DIRECTORY_COLLECTOR_H_
