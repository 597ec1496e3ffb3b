// Reads a device's attributes into DeviceInfo; see device_info.h.
#include "common/verbs/device_info.h"

#include <endian.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/verbs/gid.h"
#include "glog/logging.h"

namespace swift::verbs {
namespace {

std::string PortStateName(ibv_port_state state) {
  switch (state) {
    case IBV_PORT_NOP:
      return "NOP";
    case IBV_PORT_DOWN:
      return "DOWN";
    case IBV_PORT_INIT:
      return "INIT";
    case IBV_PORT_ARMED:
      return "ARMED";
    case IBV_PORT_ACTIVE:
      return "ACTIVE";
    case IBV_PORT_ACTIVE_DEFER:
      return "ACTIVE_DEFER";
  }
  return absl::StrCat("UNKNOWN(", static_cast<int>(state), ")");
}

std::string LinkLayerName(uint8_t link_layer) {
  switch (link_layer) {
    case IBV_LINK_LAYER_INFINIBAND:
      return "InfiniBand";
    case IBV_LINK_LAYER_ETHERNET:
      return "Ethernet";
    default:
      return "Unspecified";
  }
}

std::string TransportName(ibv_transport_type transport) {
  switch (transport) {
    case IBV_TRANSPORT_IB:
      return "InfiniBand";
    case IBV_TRANSPORT_IWARP:
      return "iWARP";
    case IBV_TRANSPORT_USNIC:
      return "usNIC";
    case IBV_TRANSPORT_USNIC_UDP:
      return "usNIC UDP";
    case IBV_TRANSPORT_UNSPECIFIED:
      return "Unspecified";
    default:
      return "Unknown";
  }
}

// Fills each port's GID list from the device's GID table.
void ReadGids(ibv_context* context, DeviceInfo& info) {
  absl::StatusOr<std::vector<ibv_gid_entry>> entries = QueryGidTable(context);
  if (!entries.ok()) {
    LOG(WARNING) << entries.status() << "; GIDs of " << info.name
                 << " not listed";
    return;
  }
  for (const ibv_gid_entry& entry : *entries) {
    for (PortInfo& port : info.ports) {
      if (port.port_num != entry.port_num) {
        continue;
      }
      GidInfo gid;
      gid.index = entry.gid_index;
      gid.gid = GidToString(entry.gid);
      gid.type = GidTypeName(entry.gid_type);
      gid.ipv4_mapped = IsIpv4MappedGid(entry.gid);
      port.gids.push_back(std::move(gid));
    }
  }
}

// ibv_import_device() on a duplicate of our command fd tells whether the
// provider can share this context with another process.
bool ProbeContextImport(ibv_context* context) {
  int fd = dup(context->cmd_fd);
  if (fd < 0) {
    return false;
  }
  ibv_context* imported = ibv_import_device(fd);
  if (imported == nullptr) {
    close(fd);
    return false;
  }
  // The imported context owns `fd` and closes it.
  ibv_close_device(imported);
  return true;
}

}  // namespace

uint32_t MtuBytes(ibv_mtu mtu) {
  switch (mtu) {
    case IBV_MTU_256:
      return 256;
    case IBV_MTU_512:
      return 512;
    case IBV_MTU_1024:
      return 1024;
    case IBV_MTU_2048:
      return 2048;
    case IBV_MTU_4096:
      return 4096;
  }
  return 0;
}

std::string FormatGuid(uint64_t guid) {
  return absl::StrFormat("%04x:%04x:%04x:%04x", (guid >> 48) & 0xffff,
                         (guid >> 32) & 0xffff, (guid >> 16) & 0xffff,
                         guid & 0xffff);
}

absl::StatusOr<DeviceInfo> QueryDeviceInfo(ibv_context* context) {
  DeviceInfo info;
  info.name = ibv_get_device_name(context->device);
  info.node_type = ibv_node_type_str(context->device->node_type);
  info.transport = TransportName(context->device->transport_type);
  info.num_comp_vectors = context->num_comp_vectors;

  ibv_device_attr attr = {};
  if (int rc = ibv_query_device(context, &attr); rc != 0) {
    return ErrnoStatus(rc, absl::StrCat("ibv_query_device(", info.name, ")"));
  }
  info.node_guid = be64toh(attr.node_guid);
  info.firmware_version = attr.fw_ver;
  info.vendor_id = attr.vendor_id;
  info.vendor_part_id = attr.vendor_part_id;
  info.max_qp = attr.max_qp;
  info.max_qp_wr = attr.max_qp_wr;
  info.max_cq = attr.max_cq;
  info.max_cqe = attr.max_cqe;
  info.max_mr = attr.max_mr;
  info.max_mr_size = attr.max_mr_size;
  info.max_pd = attr.max_pd;

  for (uint32_t port_num = 1; port_num <= attr.phys_port_cnt; ++port_num) {
    ibv_port_attr port_attr = {};
    if (int rc = ibv_query_port(context, port_num, &port_attr); rc != 0) {
      return ErrnoStatus(
          rc, absl::StrCat("ibv_query_port(", info.name, ", ", port_num, ")"));
    }
    PortInfo port;
    port.port_num = port_num;
    port.state = PortStateName(port_attr.state);
    port.active = port_attr.state == IBV_PORT_ACTIVE;
    port.max_mtu_bytes = MtuBytes(port_attr.max_mtu);
    port.active_mtu_bytes = MtuBytes(port_attr.active_mtu);
    port.link_layer = LinkLayerName(port_attr.link_layer);
    port.lid = port_attr.lid;
    info.ports.push_back(std::move(port));
  }
  ReadGids(context, info);
  info.context_import_supported = ProbeContextImport(context);
  return info;
}

}  // namespace swift::verbs
