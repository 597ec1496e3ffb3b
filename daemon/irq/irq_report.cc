// ListIrqsFromReport(); see irq_report.h.
#include "daemon/irq/irq_report.h"

#include <string>

namespace swift {

v1::ListIrqsResponse ListIrqsFromReport(const IrqReport& report) {
  v1::ListIrqsResponse response;
  response.set_enabled(report.enabled);
  response.set_privileged(report.privileged);
  for (int cpu : report.cpus) response.add_cpus(cpu);
  response.set_error(report.error);
  response.set_restored(report.restored);
  for (const DeviceIrqState& device : report.devices) {
    v1::DeviceIrqInfo* info = response.add_devices();
    info->set_device(device.device);
    info->set_bus_address(device.bus_address);
    info->set_state(std::string(IrqMapStateName(device.state)));
    info->set_detail(device.detail);
    for (const IrqVectorState& vector : device.vectors) {
      v1::IrqVectorInfo* out = info->add_vectors();
      out->set_vector(vector.vector);
      out->set_irq(vector.irq);
      out->set_action(vector.action);
      out->set_target_cpu(vector.target_cpu);
      out->set_original_affinity(vector.original_affinity);
      out->set_current_affinity(vector.current_affinity);
      out->set_changed(vector.changed);
      out->set_reason(vector.reason);
      out->set_interrupts(vector.interrupts);
      out->set_interrupts_on_target(vector.interrupts_on_target);
    }
  }
  return response;
}

}  // namespace swift
