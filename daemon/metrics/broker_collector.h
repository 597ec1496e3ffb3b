// BrokerCollector: brokered connections at scrape time, from the broker's
// own counters and listings (daemon/broker): connects by result and reason,
// connections open per tenant, handshakes in flight and queued (in all and
// per tenant), known peers, and the services listening here with their
// pools of advertised QPs.
//
// Nothing is counted twice: the broker counts, this only reads. Tenants
// (uids) and service names go through LabelCaps, so their series stay
// bounded whatever tenants do. Thread-safe: the source is called on the
// scraping thread; the caps are thread-safe.
#ifndef SWIFT_DAEMON_METRICS_BROKER_COLLECTOR_H_
#define SWIFT_DAEMON_METRICS_BROKER_COLLECTOR_H_

#include <sys/types.h>

#include <functional>
#include <vector>

#include "daemon/broker/admission_controller.h"
#include "daemon/broker/broker.h"
#include "daemon/broker/service_registry.h"
#include "daemon/metrics/label_cap.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace swift {

class BrokerCollector final : public prometheus::Collectable {
 public:
  // What the broker and the service registry say now.
  struct View {
    // False when swiftd brokers no peers (no --peer_address): the broker's
    // families are then left out; services are still listed.
    bool brokering = false;
    Broker::Counters counters;
    // The uid of every open brokered connection.
    std::vector<uid_t> connection_tenants;
    AdmissionController::Stats admission;
    std::vector<AdmissionController::TenantStats> admission_tenants;
    int peers = 0;
    std::vector<ServiceRegistry::ServiceStats> services;
  };
  using Source = std::function<View()>;

  // `tenants` and `services` must outlive the collector.
  BrokerCollector(Source source, LabelCap* tenants, LabelCap* services)
      : source_(std::move(source)), tenants_(tenants), services_(services) {}

  // The families listed in README.md ("Metrics"): swift_connects_total,
  // swift_connections_closed_total, swift_connections, swift_handshakes_*,
  // swift_tenant_handshakes_*, swift_peers, swift_services,
  // swift_service_pooled_endpoints, swift_service_connections,
  // swift_service_accepts_total.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Source source_;
  LabelCap* const tenants_;
  LabelCap* const services_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_BROKER_COLLECTOR_H_
