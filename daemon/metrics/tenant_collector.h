// TenantCollector: who uses this swiftd, at scrape time: the clients
// attached (fast path connections by kind and tenant, Control API Attach
// streams) and the memory leases they hold (daemon/leases): leases, leased
// bytes and pooled bytes by tenant, and the populate work done ahead of
// time.
//
// Tenants (uids) go through a LabelCap, so their series stay bounded.
// Thread-safe: the source is called on the scraping thread.
#ifndef SWIFT_DAEMON_METRICS_TENANT_COLLECTOR_H_
#define SWIFT_DAEMON_METRICS_TENANT_COLLECTOR_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "daemon/metrics/label_cap.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace swift {

class TenantCollector final : public prometheus::Collectable {
 public:
  struct Client {
    uid_t uid = 0;
    // The fast path connection's kind ("calls", "service").
    std::string kind;
  };
  struct Lease {
    uid_t uid = 0;
    uint64_t bytes = 0;
  };
  struct Pool {
    uid_t uid = 0;
    uint64_t ready_bytes = 0;
  };
  // What the client registry and the lease manager say now.
  struct View {
    std::vector<Client> clients;
    // Control API (gRPC) Attach streams open.
    int control_clients = 0;
    // False when swiftd has no lease manager: the lease families are left
    // out.
    bool leasing = false;
    std::vector<Lease> leases;
    std::vector<Pool> pools;
    uint64_t populated_bytes = 0;
    double populate_seconds = 0;
  };
  using Source = std::function<View()>;

  // `tenants` must outlive the collector.
  TenantCollector(Source source, LabelCap* tenants)
      : source_(std::move(source)), tenants_(tenants) {}

  // swift_clients{kind,tenant}, swift_control_clients, swift_leases{tenant},
  // swift_leased_bytes{tenant}, swift_lease_pool_bytes{tenant},
  // swift_lease_populated_bytes_total, swift_lease_populate_seconds_total.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Source source_;
  LabelCap* const tenants_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_TENANT_COLLECTOR_H_
