// SwiftdMetrics: swiftd's Prometheus metrics, assembled. It owns the label
// caps, the metrics fed by hooks (ConnectMetrics, FunctionMetrics: create
// this before the broker and the function manager, whose observers feed
// them), and once Serve() is called, the collectors that read the
// subsystems at scrape time and the HTTP exporter.
//
// Lifetime: the subsystems given to Serve() must stay alive until Stop()
// (or destruction); SwiftdServer calls Stop() first in its shutdown.
// Thread-safe.
#ifndef SWIFT_DAEMON_METRICS_SWIFTD_METRICS_H_
#define SWIFT_DAEMON_METRICS_SWIFTD_METRICS_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "daemon/api/client_registry.h"
#include "daemon/broker/broker.h"
#include "daemon/broker/service_registry.h"
#include "daemon/devices/device_table.h"
#include "daemon/directory/directory.h"
#include "daemon/functions/worker_manager.h"
#include "daemon/leases/lease_manager.h"
#include "daemon/metrics/connect_metrics.h"
#include "daemon/metrics/function_metrics.h"
#include "daemon/metrics/label_cap.h"
#include "daemon/metrics/metrics_address.h"
#include "daemon/metrics/metrics_exporter.h"

namespace swift {

class SwiftdMetrics final {
 public:
  // Distinct label values kept per kind before "other" (LabelCap):
  // tenants (uids), function names, service names.
  static constexpr size_t kMaxTenants = 64;
  static constexpr size_t kMaxFunctions = 256;
  static constexpr size_t kMaxServices = 256;

  // What the collectors read. Null members are subsystems swiftd does not
  // run (no --peer_address: no broker; no worker binary: no functions);
  // their metrics are left out.
  struct Sources {
    const DeviceTable* devices = nullptr;
    const Broker* broker = nullptr;
    const ServiceRegistry* services = nullptr;
    const ClientRegistry* clients = nullptr;
    const LeaseManager* leases = nullptr;
    const WorkerManager* workers = nullptr;
    const Directory* directory = nullptr;
  };

  SwiftdMetrics();
  SwiftdMetrics(const SwiftdMetrics&) = delete;
  SwiftdMetrics& operator=(const SwiftdMetrics&) = delete;
  // Stop().
  ~SwiftdMetrics();

  // The hook-fed metrics, for the broker's and WorkerManager's observers.
  ConnectMetrics& connects() { return connects_; }
  FunctionMetrics& functions() { return functions_; }

  // Serve()
  //
  // Starts serving every metric on `address` (MetricsExporter::Start()'s
  // errors, which name --metrics_address). kFailedPrecondition if
  // serving already.
  absl::Status Serve(const MetricsAddress& address, const Sources& sources)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The port served on; 0 when not serving.
  uint16_t port() const ABSL_LOCKS_EXCLUDED(mu_);

  // Stop(): stops serving (a scrape in progress finishes first); the
  // sources are not read afterwards. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  LabelCap tenants_{kMaxTenants};
  LabelCap function_names_{kMaxFunctions};
  LabelCap service_names_{kMaxServices};
  ConnectMetrics connects_;
  FunctionMetrics functions_{&function_names_};
  mutable absl::Mutex mu_;
  std::unique_ptr<MetricsExporter> exporter_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_SWIFTD_METRICS_H_
