// BrokerCollector; see broker_collector.h.
#include "daemon/metrics/broker_collector.h"

#include <string>

#include "daemon/metrics/family_builder.h"

namespace swift {

std::vector<prometheus::MetricFamily> BrokerCollector::Collect() const {
  using prometheus::MetricType;
  const View view = source_();
  std::vector<prometheus::MetricFamily> families;
  auto tenant = [this](uid_t uid) {
    return tenants_->Value(std::to_string(uid));
  };

  if (view.brokering) {
    FamilyBuilder connects(
        "swift_connects_total",
        "Brokered connects this swiftd made for its clients, by result (ok, "
        "failed) and reason (OK or the failure's status code name).",
        MetricType::Counter);
    // Always present, so that rate() works from the first connect on.
    connects.Touch({{"result", "ok"}, {"reason", "OK"}});
    connects.Add({{"result", "ok"}, {"reason", "OK"}},
                 static_cast<double>(view.counters.connected));
    for (const auto& [reason, count] : view.counters.failed) {
      connects.Add({{"result", "failed"}, {"reason", reason}},
                   static_cast<double>(count));
    }
    connects.AppendTo(&families);
    FamilyBuilder("swift_connections_closed_total",
                  "Brokered connections closed (by their client, or with "
                  "its fast path connection).",
                  MetricType::Counter)
        .Add({}, static_cast<double>(view.counters.closed))
        .AppendTo(&families);
    FamilyBuilder connections(
        "swift_connections",
        "Brokered connections open now, by tenant (uid; \"other\" past the "
        "cap).",
        MetricType::Gauge);
    for (uid_t uid : view.connection_tenants) {
      connections.Add({{"tenant", tenant(uid)}}, 1);
    }
    connections.AppendTo(&families);
    FamilyBuilder("swift_handshakes_in_flight",
                  "Connection handshakes running now (--max_handshakes).",
                  MetricType::Gauge)
        .Add({}, view.admission.in_flight)
        .AppendTo(&families);
    FamilyBuilder("swift_handshakes_queued",
                  "Connects waiting for a handshake slot "
                  "(--max_queued_connects).",
                  MetricType::Gauge)
        .Add({}, view.admission.queued)
        .AppendTo(&families);
    FamilyBuilder("swift_handshakes_admitted_total",
                  "Connects that got a handshake slot.", MetricType::Counter)
        .Add({}, static_cast<double>(view.admission.admitted))
        .AppendTo(&families);
    FamilyBuilder("swift_handshakes_refused_total",
                  "Connects refused a handshake slot, by reason: deadline "
                  "(their deadline passed while queued) or queue_full.",
                  MetricType::Counter)
        .Add({{"reason", "deadline"}},
             static_cast<double>(view.admission.timed_out))
        .Add({{"reason", "queue_full"}},
             static_cast<double>(view.admission.queue_full))
        .AppendTo(&families);
    FamilyBuilder tenant_in_flight(
        "swift_tenant_handshakes_in_flight",
        "Connection handshakes running now, by tenant "
        "(--max_handshakes_per_tenant).",
        MetricType::Gauge);
    FamilyBuilder tenant_queued("swift_tenant_handshakes_queued",
                                "Connects waiting for a slot, by tenant.",
                                MetricType::Gauge);
    for (const AdmissionController::TenantStats& stats :
         view.admission_tenants) {
      tenant_in_flight.Add({{"tenant", tenant(stats.tenant)}}, stats.in_flight);
      tenant_queued.Add({{"tenant", tenant(stats.tenant)}}, stats.queued);
    }
    tenant_in_flight.AppendTo(&families);
    tenant_queued.AppendTo(&families);
    FamilyBuilder("swift_peers",
                  "Other hosts' swiftds this one knows (--max_peer_entries).",
                  MetricType::Gauge)
        .Add({}, view.peers)
        .AppendTo(&families);
  }

  FamilyBuilder services("swift_services",
                         "Services listening on this host, by tenant.",
                         MetricType::Gauge);
  FamilyBuilder pooled(
      "swift_service_pooled_endpoints",
      "QPs a service advertised and no connect has taken yet (its pool "
      "level), by service (\"other\" past the cap).",
      MetricType::Gauge);
  FamilyBuilder service_connections(
      "swift_service_connections",
      "Connections brokered to a service that are open now, by service.",
      MetricType::Gauge);
  FamilyBuilder accepts(
      "swift_service_accepts_total",
      "Connects to a service, by result: accepted, or refused (its pool "
      "was empty or the application failed).",
      MetricType::Counter);
  for (const ServiceRegistry::ServiceStats& stats : view.services) {
    const std::string name = services_->Value(stats.name);
    services.Add({{"tenant", tenant(stats.owner_uid)}}, 1);
    pooled.Add({{"service", name}}, stats.pooled);
    service_connections.Add({{"service", name}}, stats.connections);
    accepts.Add({{"service", name}, {"result", "accepted"}},
                static_cast<double>(stats.accepted));
    accepts.Add({{"service", name}, {"result", "refused"}},
                static_cast<double>(stats.refused));
  }
  services.AppendTo(&families);
  pooled.AppendTo(&families);
  service_connections.AppendTo(&families);
  accepts.AppendTo(&families);
  return families;
}

}  // namespace swift
