// PortAddress queries and builders; see port_address.h.
#include "common/verbs/port_address.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/errno_status.h"
#include "common/verbs/gid.h"

namespace swift::verbs {
namespace {

// ibv_ah_attr carries the source GID index in 8 bits. `device` may be ""
// (a port described, not opened).
absl::Status IndexTooLarge(absl::string_view device, uint32_t port_num,
                           uint32_t gid_index) {
  return absl::InvalidArgumentError(absl::StrCat(
      device, device.empty() ? "" : " ", "port ", port_num, ": GID index ",
      gid_index, " does not fit an address handle (> 255)"));
}

}  // namespace

absl::StatusOr<PortAddress> QueryPortAddress(
    const Context& context, uint8_t port_num,
    std::optional<uint32_t> gid_index) {
  ibv_port_attr attr = {};
  if (int rc = ibv_query_port(context.get(), port_num, &attr); rc != 0) {
    return ErrnoStatus(rc, absl::StrCat("ibv_query_port(", context.name(), ", ",
                                        port_num, ")"));
  }
  if (attr.state != IBV_PORT_ACTIVE) {
    return absl::UnavailableError(
        absl::StrCat(context.name(), " port ", port_num, " is not active (",
                     ibv_port_state_str(attr.state), ")"));
  }
  PortAddress port;
  port.port_num = port_num;
  port.link_layer = attr.link_layer;
  port.lid = attr.lid;
  port.active_mtu = attr.active_mtu;
  // The entry: given by index, or chosen from the table, whose query
  // already returned it (one verbs call fewer on a cold start).
  absl::StatusOr<ibv_gid_entry> entry;
  if (gid_index.has_value()) {
    if (*gid_index > 255) {
      return IndexTooLarge(context.name(), port_num, *gid_index);
    }
    entry = QueryGidEntry(context.get(), port_num, *gid_index);
  } else if (attr.link_layer == IBV_LINK_LAYER_INFINIBAND) {
    entry = QueryGidEntry(context.get(), port_num, 0);
  } else {
    entry = FindRoceV2Ipv4GidEntry(context.get(), port_num);
  }
  if (!entry.ok()) {
    return entry.status();
  }
  port.gid_index = entry->gid_index;
  if (port.gid_index > 255) {
    return IndexTooLarge(context.name(), port_num, port.gid_index);
  }
  port.gid = entry->gid;
  return port;
}

absl::StatusOr<PortAddress> PortAddressFromInfo(const PortInfo& port) {
  if (!port.active) {
    return absl::UnavailableError(absl::StrCat(
        "port ", port.port_num, " is not active (", port.state, ")"));
  }
  PortAddress address;
  address.port_num = static_cast<uint8_t>(port.port_num);
  address.lid = static_cast<uint16_t>(port.lid);
  bool mtu_known = false;
  for (const ibv_mtu mtu :
       {IBV_MTU_256, IBV_MTU_512, IBV_MTU_1024, IBV_MTU_2048, IBV_MTU_4096}) {
    if (MtuBytes(mtu) == port.active_mtu_bytes) {
      address.active_mtu = mtu;
      mtu_known = true;
    }
  }
  if (!mtu_known) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", port.port_num, ": no verbs MTU of ",
                     port.active_mtu_bytes, " bytes"));
  }
  // The table as ibv_query_gid_table() would give it, for the choice
  // QueryPortAddress() makes.
  std::vector<ibv_gid_entry> table;
  for (const GidInfo& gid : port.gids) {
    absl::StatusOr<ibv_gid> parsed = ParseGid(gid.gid);
    if (!parsed.ok()) {
      return parsed.status();
    }
    ibv_gid_entry entry = {};
    entry.gid = *parsed;
    entry.gid_index = gid.index;
    entry.port_num = port.port_num;
    entry.gid_type =
        gid.type == GidTypeName(IBV_GID_TYPE_ROCE_V2)   ? IBV_GID_TYPE_ROCE_V2
        : gid.type == GidTypeName(IBV_GID_TYPE_ROCE_V1) ? IBV_GID_TYPE_ROCE_V1
                                                        : IBV_GID_TYPE_IB;
    table.push_back(entry);
  }
  absl::StatusOr<ibv_gid_entry> entry;
  if (port.link_layer == LinkLayerName(IBV_LINK_LAYER_INFINIBAND)) {
    address.link_layer = IBV_LINK_LAYER_INFINIBAND;
    entry = absl::NotFoundError(
        absl::StrCat("port ", port.port_num, ": no GID at index 0"));
    for (const ibv_gid_entry& listed : table) {
      if (listed.gid_index == 0) {
        entry = listed;
      }
    }
  } else if (port.link_layer == LinkLayerName(IBV_LINK_LAYER_ETHERNET)) {
    address.link_layer = IBV_LINK_LAYER_ETHERNET;
    entry = SelectRoceV2Ipv4GidEntry(table, port.port_num);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "port ", port.port_num, ": link layer '", port.link_layer, "'"));
  }
  if (!entry.ok()) {
    return entry.status();
  }
  if (entry->gid_index > 255) {
    return IndexTooLarge("", port.port_num, entry->gid_index);
  }
  address.gid_index = entry->gid_index;
  address.gid = entry->gid;
  return address;
}

QpEndpoint MakeEndpoint(const PortAddress& port, uint32_t qpn, uint32_t psn) {
  QpEndpoint endpoint;
  endpoint.qpn = qpn;
  endpoint.psn = psn;
  endpoint.gid = port.gid;
  endpoint.gid_index = port.gid_index;
  endpoint.lid = port.lid;
  endpoint.mtu = port.active_mtu;
  return endpoint;
}

ibv_ah_attr MakeAhAttr(const PortAddress& local, const QpEndpoint& remote,
                       uint8_t hop_limit, uint8_t traffic_class) {
  ibv_ah_attr attr = {};
  attr.dlid = remote.lid;
  attr.sl = 0;
  attr.src_path_bits = 0;
  attr.port_num = local.port_num;
  // RoCE has no LIDs: every packet carries a GRH routed by GID. InfiniBand
  // within a subnet could go without, but a GRH is always valid there too.
  attr.is_global = 1;
  attr.grh.dgid = remote.gid;
  attr.grh.sgid_index = static_cast<uint8_t>(local.gid_index);
  attr.grh.hop_limit = hop_limit;
  attr.grh.traffic_class = traffic_class;
  attr.grh.flow_label = 0;
  return attr;
}

}  // namespace swift::verbs
