// HelloPortAddress(); see hello_port_address.h.
#include "daemon/devices/hello_port_address.h"

#include "common/verbs/port_address.h"

namespace swift {

std::optional<v1::CachedPortAddress> HelloPortAddress(
    const DeviceTable& table, const std::string& device) {
  std::optional<DeviceRecord> record = table.Find(device);
  if (!record.has_value() || record->state != DeviceState::kOpen) {
    return std::nullopt;
  }
  for (const verbs::PortInfo& port : record->info.ports) {
    if (port.port_num != 1) {
      continue;
    }
    absl::StatusOr<verbs::PortAddress> address =
        verbs::PortAddressFromInfo(port);
    if (!address.ok()) {
      return std::nullopt;
    }
    v1::CachedPortAddress cached;
    cached.set_port_num(address->port_num);
    cached.set_link_layer(address->link_layer);
    cached.set_lid(address->lid);
    cached.set_active_mtu(address->active_mtu);
    cached.set_gid_index(address->gid_index);
    cached.set_gid(address->gid.raw, sizeof(address->gid.raw));
    return cached;
  }
  return std::nullopt;
}

}  // namespace swift
