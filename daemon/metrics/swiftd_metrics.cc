// SwiftdMetrics; see swiftd_metrics.h.
#include "daemon/metrics/swiftd_metrics.h"

#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "daemon/metrics/broker_collector.h"
#include "daemon/metrics/device_collector.h"
#include "daemon/metrics/directory_collector.h"
#include "daemon/metrics/function_collector.h"
#include "daemon/metrics/process_collector.h"
#include "daemon/metrics/tenant_collector.h"

namespace swift {
namespace {

BrokerCollector::View ReadBroker(const Broker* broker,
                                 const ServiceRegistry* services) {
  BrokerCollector::View view;
  if (broker != nullptr) {
    view.brokering = true;
    view.counters = broker->GetCounters();
    for (const Broker::ConnectionView& connection : broker->Connections()) {
      view.connection_tenants.push_back(connection.uid);
    }
    view.admission = broker->admission().GetStats();
    view.admission_tenants = broker->admission().ListTenants();
    view.peers = broker->peer_entries();
  }
  if (services != nullptr) {
    view.services = services->Stats();
  }
  return view;
}

TenantCollector::View ReadTenants(const ClientRegistry* clients,
                                  const LeaseManager* leases) {
  TenantCollector::View view;
  if (clients != nullptr) {
    for (const ClientRegistry::FastPathConnection& connection :
         clients->ListFastPath()) {
      view.clients.push_back({connection.uid, connection.kind});
    }
    view.control_clients = clients->Count();
  }
  if (leases != nullptr) {
    view.leasing = true;
    // Root's view (uid 0): every tenant's leases, page by page.
    uint32_t offset = 0;
    while (true) {
      const v1::ListLeasesResponse page = leases->List(0, offset);
      for (const v1::LeaseInfo& lease : page.leases()) {
        view.leases.push_back({lease.tenant_uid(), lease.size_bytes()});
      }
      if (offset == 0) {
        for (const v1::LeasePoolInfo& pool : page.pools()) {
          view.pools.push_back({pool.tenant_uid(), pool.ready_bytes()});
        }
        view.populated_bytes = page.populated_bytes();
        view.populate_seconds =
            absl::ToDoubleSeconds(absl::Microseconds(page.populate_us()));
      }
      offset += static_cast<uint32_t>(page.leases_size());
      if (page.remaining() == 0 || page.leases_size() == 0) {
        break;
      }
    }
  }
  return view;
}

}  // namespace

SwiftdMetrics::SwiftdMetrics() = default;

SwiftdMetrics::~SwiftdMetrics() { Stop(); }

absl::Status SwiftdMetrics::Serve(const MetricsAddress& address,
                                  const Sources& sources) {
  absl::MutexLock lock(&mu_);
  if (exporter_ != nullptr) {
    return absl::FailedPreconditionError("metrics are served already");
  }
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
  collectables.push_back(std::make_shared<ProcessCollector>());
  if (sources.devices != nullptr) {
    const DeviceTable* devices = sources.devices;
    collectables.push_back(std::make_shared<DeviceCollector>(
        [devices] { return devices->Snapshot(); }));
  }
  collectables.push_back(std::make_shared<BrokerCollector>(
      [broker = sources.broker, services = sources.services] {
        return ReadBroker(broker, services);
      },
      &tenants_, &service_names_));
  collectables.push_back(std::make_shared<TenantCollector>(
      [clients = sources.clients, leases = sources.leases] {
        return ReadTenants(clients, leases);
      },
      &tenants_));
  if (sources.workers != nullptr) {
    const WorkerManager* workers = sources.workers;
    collectables.push_back(std::make_shared<FunctionCollector>(
        [workers] {
          return FunctionCollector::View{workers->List(),
                                         workers->workers_held()};
        },
        &function_names_));
    collectables.push_back(functions_.registry());
  }
  if (sources.broker != nullptr) {
    collectables.push_back(connects_.registry());
  }
  if (sources.directory != nullptr) {
    const Directory* directory = sources.directory;
    collectables.push_back(std::make_shared<DirectoryCollector>(
        [directory] { return directory->state(); }));
  }
  absl::StatusOr<std::unique_ptr<MetricsExporter>> exporter =
      MetricsExporter::Start(address, std::move(collectables));
  if (!exporter.ok()) {
    return exporter.status();
  }
  exporter_ = *std::move(exporter);
  return absl::OkStatus();
}

uint16_t SwiftdMetrics::port() const {
  absl::MutexLock lock(&mu_);
  return exporter_ == nullptr ? 0 : exporter_->port();
}

void SwiftdMetrics::Stop() {
  std::unique_ptr<MetricsExporter> exporter;
  {
    absl::MutexLock lock(&mu_);
    exporter = std::move(exporter_);
  }
  // Destroyed outside the lock: it waits for a scrape in progress.
}

}  // namespace swift
