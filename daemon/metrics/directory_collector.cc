// DirectoryCollector; see directory_collector.h.
#include "daemon/metrics/directory_collector.h"

#include "daemon/metrics/family_builder.h"

namespace swift {

std::vector<prometheus::MetricFamily> DirectoryCollector::Collect() const {
  using prometheus::MetricType;
  const Directory::State state = source_();
  std::vector<prometheus::MetricFamily> families;
  auto one = [&families](const char* name, const char* help, MetricType type,
                         double value) {
    FamilyBuilder(name, help, type).Add({}, value).AppendTo(&families);
  };
  one("swift_directory_reachable",
      "1 when the directory's etcd answers both this host's registration "
      "and its watch; 0 while connects use what swiftd cached.",
      MetricType::Gauge, state.reachable ? 1 : 0);
  one("swift_directory_registered",
      "1 when this host's record is in the directory under its lease.",
      MetricType::Gauge, state.registered ? 1 : 0);
  one("swift_directory_hosts", "Hosts in this swiftd's copy of the directory.",
      MetricType::Gauge, static_cast<double>(state.hosts));
  one("swift_directory_revision", "The newest etcd revision this swiftd saw.",
      MetricType::Gauge, static_cast<double>(state.revision));
  one("swift_directory_registrations_total",
      "Leases this swiftd was granted: 1, plus one each time etcd lost it.",
      MetricType::Counter, static_cast<double>(state.registrations));
  one("swift_directory_watch_restarts_total",
      "Times the watch broke and the directory was read again.",
      MetricType::Counter, static_cast<double>(state.watch_restarts));
  one("swift_directory_bad_records_total",
      "Records refused as malformed (another writer, or a newer format).",
      MetricType::Counter, static_cast<double>(state.bad_records));
  return families;
}

}  // namespace swift
