// Reads a device's attributes into DeviceInfo; see device_info.h.
#include "common/verbs/device_info.h"

#include <endian.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/verbs/gid.h"

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
void ReadGids(ibv_context* context, const std::string& name,
              std::vector<PortInfo>& ports) {
  absl::StatusOr<std::vector<ibv_gid_entry>> entries = QueryGidTable(context);
  if (!entries.ok()) {
    SWIFT_LOG(Warning, entries.status().ToString(), "; GIDs of ", name,
              " not listed");
    return;
  }
  for (const ibv_gid_entry& entry : *entries) {
    for (PortInfo& port : ports) {
      if (port.port_num != entry.port_num) {
        continue;
      }
      GidInfo gid;
      gid.index = entry.gid_index;
      gid.gid = GidToString(entry.gid);
      gid.type = GidTypeName(entry.gid_type);
      gid.ipv4_mapped = IsIpv4MappedGid(entry.gid);
      gid.netdev_ifindex = entry.ndev_ifindex;
      char netdev[IF_NAMESIZE] = {};
      if (entry.ndev_ifindex != 0 &&
          if_indextoname(entry.ndev_ifindex, netdev) != nullptr) {
        gid.netdev = netdev;
      }
      port.gids.push_back(std::move(gid));
    }
  }
}

std::string PhysStateName(uint8_t phys_state) {
  switch (phys_state) {
    case 1:
      return "SLEEP";
    case 2:
      return "POLLING";
    case 3:
      return "DISABLED";
    case 4:
      return "PORT_CONFIGURATION_TRAINING";
    case 5:
      return "LINK_UP";
    case 6:
      return "LINK_ERROR_RECOVERY";
    case 7:
      return "PHY_TEST";
    default:
      return absl::StrCat("invalid physical state ", phys_state);
  }
}

std::string AtomicCapName(ibv_atomic_cap cap) {
  switch (cap) {
    case IBV_ATOMIC_NONE:
      return "NONE";
    case IBV_ATOMIC_HCA:
      return "HCA";
    case IBV_ATOMIC_GLOB:
      return "GLOB";
  }
  return absl::StrCat("unknown ", static_cast<int>(cap));
}

// ibv_import_device() on a duplicate of our command fd tells whether the
// provider can share this context with another process; `error` gets the
// errno text when it cannot.
bool ProbeContextImport(ibv_context* context, std::string& error) {
  int fd = dup(context->cmd_fd);
  if (fd < 0) {
    error = absl::StrCat("dup(cmd_fd): ", std::strerror(errno));
    return false;
  }
  errno = 0;
  ibv_context* imported = ibv_import_device(fd);
  if (imported == nullptr) {
    error = errno != 0 ? std::strerror(errno) : "failed without an errno";
    close(fd);
    return false;
  }
  // The imported context owns `fd` and closes it.
  ibv_close_device(imported);
  return true;
}

}  // namespace

std::string PortSpeedName(uint8_t active_speed) {
  switch (active_speed) {
    case 1:
      return "2.5 Gbps";
    case 2:
      return "5.0 Gbps";
    case 4:
    case 8:
      return "10.0 Gbps";
    case 16:
      return "14.0 Gbps";
    case 32:
      return "25.0 Gbps";
    case 64:
      return "50.0 Gbps";
    case 128:
      return "100.0 Gbps";
    default:
      return absl::StrCat("invalid speed ", active_speed);
  }
}

std::string PortWidthName(uint8_t active_width) {
  switch (active_width) {
    case 1:
      return "1X";
    case 2:
      return "4X";
    case 4:
      return "8X";
    case 8:
      return "12X";
    case 16:
      return "2X";
    default:
      return absl::StrCat("invalid width ", active_width);
  }
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

absl::StatusOr<std::vector<PortInfo>> QueryPorts(ibv_context* context,
                                                 uint32_t port_count) {
  const std::string name = ibv_get_device_name(context->device);
  std::vector<PortInfo> ports;
  for (uint32_t port_num = 1; port_num <= port_count; ++port_num) {
    ibv_port_attr port_attr = {};
    if (int rc = ibv_query_port(context, port_num, &port_attr); rc != 0) {
      return ErrnoStatus(
          rc, absl::StrCat("ibv_query_port(", name, ", ", port_num, ")"));
    }
    PortInfo port;
    port.port_num = port_num;
    port.state = PortStateName(port_attr.state);
    port.active = port_attr.state == IBV_PORT_ACTIVE;
    port.max_mtu_bytes = MtuBytes(port_attr.max_mtu);
    port.active_mtu_bytes = MtuBytes(port_attr.active_mtu);
    port.link_layer = LinkLayerName(port_attr.link_layer);
    port.lid = port_attr.lid;
    port.phys_state = PhysStateName(port_attr.phys_state);
    port.speed = PortSpeedName(port_attr.active_speed);
    port.width = PortWidthName(port_attr.active_width);
    port.gid_table_len = static_cast<uint32_t>(port_attr.gid_tbl_len);
    ports.push_back(std::move(port));
  }
  ReadGids(context, name, ports);
  return ports;
}

absl::StatusOr<DeviceInfo> QueryDeviceInfo(ibv_context* context) {
  DeviceInfo info;
  info.name = ibv_get_device_name(context->device);
  info.node_type = ibv_node_type_str(context->device->node_type);
  info.transport = TransportName(context->device->transport_type);
  info.num_comp_vectors = context->num_comp_vectors;
  info.uverbs_device = context->device->dev_name;

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
  info.max_sge = attr.max_sge;
  info.max_qp_rd_atom = attr.max_qp_rd_atom;
  info.max_srq = attr.max_srq;
  info.page_size_cap = attr.page_size_cap;
  info.atomic_cap = AtomicCapName(attr.atomic_cap);

  absl::StatusOr<std::vector<PortInfo>> ports =
      QueryPorts(context, attr.phys_port_cnt);
  if (!ports.ok()) {
    return ports.status();
  }
  info.ports = *std::move(ports);
  info.context_import_supported =
      ProbeContextImport(context, info.context_import_error);
  return info;
}

}  // namespace swift::verbs
