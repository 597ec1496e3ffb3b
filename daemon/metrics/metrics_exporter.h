// MetricsExporter: the HTTP endpoint Prometheus scrapes (GET /metrics),
// prometheus-cpp's Exposer (civetweb) on a checked address, serving the
// collectables it is given. The exposition format is prometheus-cpp's.
//
// Every scrape calls each collectable's Collect() on one of the exposer's
// two threads; collectables must be thread-safe and stay alive until the
// exporter is destroyed (they are held as shared_ptrs here).
// Thread-safe; destruction stops serving and joins the server's threads.
#ifndef SWIFT_DAEMON_METRICS_METRICS_EXPORTER_H_
#define SWIFT_DAEMON_METRICS_METRICS_EXPORTER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/metrics/metrics_address.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"

namespace swift {

class MetricsExporter final {
 public:
  // Start()
  //
  // Serves `collectables` on http://<address>/metrics. Errors name
  // --metrics_address: CheckCanListen()'s (port in use, not this host's
  // address, privileged port), or kUnavailable when the HTTP server does
  // not start for another reason.
  static absl::StatusOr<std::unique_ptr<MetricsExporter>> Start(
      const MetricsAddress& address,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables);

  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;
  // Stops serving; a scrape in progress finishes first.
  ~MetricsExporter();

  // The port it listens on (the chosen one when the address had port 0).
  uint16_t port() const { return port_; }

 private:
  MetricsExporter(
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
      std::unique_ptr<prometheus::Exposer> exposer, uint16_t port)
      : collectables_(std::move(collectables)),
        exposer_(std::move(exposer)),
        port_(port) {}

  // The exposer holds only weak pointers to the collectables: they are
  // owned here, declared before it so that they outlive it.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  const uint16_t port_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_METRICS_EXPORTER_H_
