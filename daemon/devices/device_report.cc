// ListDevices answer from the device cache; see device_report.h.
#include "daemon/devices/device_report.h"

namespace swift {

v1::Device DeviceToProto(const DeviceCache::Entry& entry) {
  v1::Device device;
  device.set_name(entry.name);
  if (!entry.error.ok()) {
    device.set_error(entry.error.ToString());
    return device;
  }
  const verbs::DeviceInfo& info = entry.info;
  device.set_node_guid(verbs::FormatGuid(info.node_guid));
  device.set_node_type(info.node_type);
  device.set_transport(info.transport);
  device.set_firmware_version(info.firmware_version);
  device.set_vendor_id(info.vendor_id);
  device.set_vendor_part_id(info.vendor_part_id);
  device.set_num_comp_vectors(info.num_comp_vectors);
  device.set_max_qp(info.max_qp);
  device.set_max_qp_wr(info.max_qp_wr);
  device.set_max_cq(info.max_cq);
  device.set_max_cqe(info.max_cqe);
  device.set_max_mr(info.max_mr);
  device.set_max_mr_size_bytes(info.max_mr_size);
  device.set_max_pd(info.max_pd);
  device.mutable_capabilities()->set_context_import(
      info.context_import_supported);
  device.set_open_time_us(absl::ToInt64Microseconds(entry.open_time));
  for (const verbs::PortInfo& port_info : info.ports) {
    v1::Port* port = device.add_ports();
    port->set_port_num(port_info.port_num);
    port->set_state(port_info.state);
    port->set_max_mtu_bytes(port_info.max_mtu_bytes);
    port->set_active_mtu_bytes(port_info.active_mtu_bytes);
    port->set_link_layer(port_info.link_layer);
    port->set_lid(port_info.lid);
    for (const verbs::GidInfo& gid_info : port_info.gids) {
      v1::Gid* gid = port->add_gids();
      gid->set_index(gid_info.index);
      gid->set_gid(gid_info.gid);
      gid->set_type(gid_info.type);
      gid->set_ipv4_mapped(gid_info.ipv4_mapped);
    }
  }
  return device;
}

v1::ListDevicesResponse ListDevicesFromCache(const DeviceCache& cache) {
  v1::ListDevicesResponse response;
  for (const DeviceCache::Entry& entry : cache.entries()) {
    *response.add_devices() = DeviceToProto(entry);
  }
  return response;
}

}  // namespace swift
