// DeviceCollector; see device_collector.h.
#include "daemon/metrics/device_collector.h"

#include <string>

#include "daemon/metrics/family_builder.h"

namespace swift {

std::vector<prometheus::MetricFamily> DeviceCollector::Collect() const {
  using prometheus::MetricType;
  FamilyBuilder device_state(
      "swift_device_state",
      "RDMA devices swiftd knows: 1 for the device's state (open, failed, "
      "removed), 0 for the others.",
      MetricType::Gauge);
  FamilyBuilder port_active("swift_port_active",
                            "1 when the device's port is ACTIVE, else 0.",
                            MetricType::Gauge);
  FamilyBuilder port_state(
      "swift_port_state",
      "The port's state as verbs names it (label state), always 1.",
      MetricType::Gauge);
  for (const DeviceRecord& record : source_()) {
    for (DeviceState state :
         {DeviceState::kOpen, DeviceState::kFailed, DeviceState::kRemoved}) {
      device_state.Add({{"device", record.name},
                        {"state", std::string(DeviceStateName(state))}},
                       record.state == state ? 1 : 0);
    }
    for (const verbs::PortInfo& port : record.info.ports) {
      const std::string number = std::to_string(port.port_num);
      port_active.Add(
          {{"device", record.name}, {"port", number}},
          port.active && record.state == DeviceState::kOpen ? 1 : 0);
      port_state.Add(
          {{"device", record.name}, {"port", number}, {"state", port.state}},
          1);
    }
  }
  std::vector<prometheus::MetricFamily> families;
  device_state.AppendTo(&families);
  port_active.AppendTo(&families);
  port_state.AppendTo(&families);
  return families;
}

}  // namespace swift
