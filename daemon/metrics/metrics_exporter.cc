// MetricsExporter; see metrics_exporter.h.
#include "daemon/metrics/metrics_exporter.h"

#include <exception>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace swift {

absl::StatusOr<std::unique_ptr<MetricsExporter>> MetricsExporter::Start(
    const MetricsAddress& address,
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  // civetweb reports a bind failure only as an exception without the
  // kernel's reason: ask the kernel first.
  SWIFT_RETURN_IF_ERROR(CheckCanListen(address));
  std::unique_ptr<prometheus::Exposer> exposer;
  // prometheus-cpp throws (civetweb's CivetException) when the server does
  // not start: the one place Swift meets an exception, turned into a
  // status here.
  try {
    // Two threads: a scrape at a time, and one more for a slow client.
    exposer = std::make_unique<prometheus::Exposer>(address.ToString(),
                                                    /*num_threads=*/2);
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat(
        "--metrics_address ", address.ToString(),
        ": the metrics HTTP server did not start: ", error.what()));
  }
  for (const std::shared_ptr<prometheus::Collectable>& collectable :
       collectables) {
    exposer->RegisterCollectable(collectable);
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  const uint16_t port =
      ports.empty() ? address.port : static_cast<uint16_t>(ports.front());
  return std::unique_ptr<MetricsExporter>(
      new MetricsExporter(std::move(collectables), std::move(exposer), port));
}

MetricsExporter::~MetricsExporter() = default;

}  // namespace swift
