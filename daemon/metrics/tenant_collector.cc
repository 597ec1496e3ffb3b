// TenantCollector; see tenant_collector.h.
#include "daemon/metrics/tenant_collector.h"

#include "daemon/metrics/family_builder.h"

namespace swift {

std::vector<prometheus::MetricFamily> TenantCollector::Collect() const {
  using prometheus::MetricType;
  const View view = source_();
  auto tenant = [this](uid_t uid) {
    return tenants_->Value(std::to_string(uid));
  };
  std::vector<prometheus::MetricFamily> families;
  FamilyBuilder clients(
      "swift_clients",
      "Fast path connections open now (after their hello), by kind (calls, "
      "service, ...) and tenant (uid; \"other\" past the cap).",
      MetricType::Gauge);
  for (const Client& client : view.clients) {
    clients.Add({{"kind", client.kind}, {"tenant", tenant(client.uid)}}, 1);
  }
  clients.AppendTo(&families);
  FamilyBuilder("swift_control_clients",
                "Control API (gRPC) Attach streams open now.",
                MetricType::Gauge)
      .Add({}, view.control_clients)
      .AppendTo(&families);
  if (!view.leasing) {
    return families;
  }
  FamilyBuilder leases("swift_leases", "Memory leases held now, by tenant.",
                       MetricType::Gauge);
  FamilyBuilder leased_bytes("swift_leased_bytes",
                             "Bytes of memory leases held now, by tenant.",
                             MetricType::Gauge);
  for (const Lease& lease : view.leases) {
    leases.Add({{"tenant", tenant(lease.uid)}}, 1);
    leased_bytes.Add({{"tenant", tenant(lease.uid)}},
                     static_cast<double>(lease.bytes));
  }
  leases.AppendTo(&families);
  leased_bytes.AppendTo(&families);
  FamilyBuilder pool_bytes(
      "swift_lease_pool_bytes",
      "Bytes a tenant's lease pool holds populated, ready to lease.",
      MetricType::Gauge);
  for (const Pool& pool : view.pools) {
    pool_bytes.Add({{"tenant", tenant(pool.uid)}},
                   static_cast<double>(pool.ready_bytes));
  }
  pool_bytes.AppendTo(&families);
  FamilyBuilder("swift_lease_populated_bytes_total",
                "Bytes the lease pools populated ahead of time.",
                MetricType::Counter)
      .Add({}, static_cast<double>(view.populated_bytes))
      .AppendTo(&families);
  FamilyBuilder("swift_lease_populate_seconds_total",
                "Time the lease pools spent populating, in seconds.",
                MetricType::Counter)
      .Add({}, view.populate_seconds)
      .AppendTo(&families);
  return families;
}

}  // namespace swift
