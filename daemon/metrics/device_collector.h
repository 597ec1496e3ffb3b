// DeviceCollector: the RDMA devices swiftd holds and their ports, from the
// device table (daemon/devices) at scrape time: each device's state
// (open, failed, removed) and each port's state. A host without devices
// exports the families without samples.
//
// Thread-safe: the source is called on the scraping thread.
#ifndef SWIFT_DAEMON_METRICS_DEVICE_COLLECTOR_H_
#define SWIFT_DAEMON_METRICS_DEVICE_COLLECTOR_H_

#include <functional>
#include <vector>

#include "daemon/devices/device_record.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace swift {

class DeviceCollector final : public prometheus::Collectable {
 public:
  // The devices now (DeviceTable::Snapshot()); must stay callable while
  // the collector is registered.
  using Source = std::function<std::vector<DeviceRecord>()>;

  explicit DeviceCollector(Source source) : source_(std::move(source)) {}

  // swift_device_state{device,state}: 1 for the device's state, 0 for the
  // others (open, failed, removed); swift_port_active{device,port}: 1 when
  // the port is ACTIVE; swift_port_state{device,port,state}: 1, labelled
  // with the port's state as verbs names it ("ACTIVE", "DOWN", ...).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Source source_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_DEVICE_COLLECTOR_H_
