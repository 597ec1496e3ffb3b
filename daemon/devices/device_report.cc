// ListDevices and DescribeDevices answers from the device cache; see
// device_report.h.
#include "daemon/devices/device_report.h"

namespace swift {

v1::Device DeviceToProto(const DeviceRecord& record) {
  v1::Device device;
  device.set_name(record.name);
  device.set_state(std::string(DeviceStateName(record.state)));
  device.set_generation(record.generation);
  device.set_changed_unix_us(absl::ToUnixMicros(record.changed_at));
  if (!record.error.ok()) {
    device.set_error(record.error.ToString());
  }
  if (record.state == DeviceState::kFailed) {
    return device;
  }
  const verbs::DeviceInfo& info = record.info;
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
  device.set_max_sge(info.max_sge);
  device.set_max_qp_rd_atom(info.max_qp_rd_atom);
  device.set_max_srq(info.max_srq);
  device.set_page_size_cap(info.page_size_cap);
  device.set_atomic_cap(info.atomic_cap);
  device.set_uverbs_device(info.uverbs_device);
  device.set_provider_library(record.provider_library);
  device.set_driver(record.driver);
  device.set_last_event(record.last_event);
  v1::Capabilities* capabilities = device.mutable_capabilities();
  capabilities->set_context_import(record.context_import.supported);
  capabilities->set_context_import_detail(record.context_import.detail);
  capabilities->set_fork_child_post(record.fork_child_post.supported);
  capabilities->set_fork_child_post_detail(record.fork_child_post.detail);
  capabilities->set_doorbell(record.doorbell);
  capabilities->set_hardware_irqs(record.hardware_irqs.supported);
  capabilities->set_hardware_irqs_detail(record.hardware_irqs.detail);
  capabilities->set_irq_count(record.irq_count);
  device.set_open_time_us(absl::ToInt64Microseconds(record.open_time));
  for (const verbs::PortInfo& port_info : info.ports) {
    v1::Port* port = device.add_ports();
    port->set_port_num(port_info.port_num);
    port->set_state(port_info.state);
    port->set_max_mtu_bytes(port_info.max_mtu_bytes);
    port->set_active_mtu_bytes(port_info.active_mtu_bytes);
    port->set_link_layer(port_info.link_layer);
    port->set_lid(port_info.lid);
    port->set_phys_state(port_info.phys_state);
    port->set_speed(port_info.speed);
    port->set_width(port_info.width);
    port->set_gid_table_len(port_info.gid_table_len);
    for (const verbs::GidInfo& gid_info : port_info.gids) {
      v1::Gid* gid = port->add_gids();
      gid->set_index(gid_info.index);
      gid->set_gid(gid_info.gid);
      gid->set_type(gid_info.type);
      gid->set_ipv4_mapped(gid_info.ipv4_mapped);
      gid->set_netdev(gid_info.netdev);
      gid->set_netdev_ifindex(gid_info.netdev_ifindex);
    }
  }
  return device;
}

v1::ListDevicesResponse ListDevicesFromRecords(
    const std::vector<DeviceRecord>& records, uint64_t generation) {
  v1::ListDevicesResponse response;
  for (const DeviceRecord& record : records) {
    *response.add_devices() = DeviceToProto(record);
  }
  response.set_generation(generation);
  return response;
}

v1::ListDevicesResponse ListDevicesFromCache(const DeviceCache& cache) {
  uint64_t generation = 0;
  std::vector<DeviceRecord> records = cache.Snapshot(&generation);
  return ListDevicesFromRecords(records, generation);
}

v1::DescribeDevicesResult DescribeDevices(const DeviceCache& cache) {
  v1::ListDevicesResponse list = ListDevicesFromCache(cache);
  v1::DescribeDevicesResult result;
  result.mutable_devices()->Swap(list.mutable_devices());
  result.set_generation(list.generation());
  return result;
}

}  // namespace swift
