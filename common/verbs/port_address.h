// PortAddress: how a local port is addressed on the wire (GID, GID index,
// LID, active MTU), and the endpoint and address-handle attributes built
// from it.
//
// RoCE addresses a port by GID: the one Swift uses is the port's RoCE v2
// IPv4-mapped GID (gid.h), and the path MTU of a connection is the smaller
// of both ports' active MTUs. QueryPortAddress() reads all that once per
// port; MakeEndpoint() turns it into what a peer needs (endpoint.h), and
// MakeAhAttr() into the route to a peer's endpoint (for RC RTR and UD AHs).
//
// Plain data and stateless functions: thread-safe.
#ifndef SWIFT_COMMON_VERBS_PORT_ADDRESS_H_
#define SWIFT_COMMON_VERBS_PORT_ADDRESS_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "common/verbs/context.h"
#include "common/verbs/device_info.h"
#include "common/verbs/endpoint.h"

namespace swift::verbs {

struct PortAddress {
  uint8_t port_num = 1;
  uint8_t link_layer = IBV_LINK_LAYER_ETHERNET;
  uint16_t lid = 0;  // 0 on RoCE.
  ibv_mtu active_mtu = IBV_MTU_1024;
  uint32_t gid_index = 0;
  ibv_gid gid = {};
};

// QueryPortAddress()
//
// Reads port `port_num` of `context` (ibv_query_port) and the GID at
// `gid_index` (ibv_query_gid_ex). Without `gid_index`, an Ethernet (RoCE)
// port uses its RoCE v2 IPv4-mapped GID (FindRoceV2Ipv4GidIndex) and an
// InfiniBand port index 0. Errors: kUnavailable when the port is not ACTIVE;
// kNotFound when no suitable GID exists or `gid_index` is empty;
// kInvalidArgument for an index above 255 (verbs address it in 8 bits);
// otherwise
// the failing verb's errno status.
absl::StatusOr<PortAddress> QueryPortAddress(
    const Context& context, uint8_t port_num,
    std::optional<uint32_t> gid_index = std::nullopt);

// PortAddressFromInfo()
//
// What QueryPortAddress() without `gid_index` gives, computed from `port`
// as QueryDeviceInfo() described it (device_info.h) instead of from the
// device: how a client uses swiftd's cached description of a port rather
// than querying the port and its GID table itself. The same errors.
absl::StatusOr<PortAddress> PortAddressFromInfo(const PortInfo& port);

// MakeEndpoint()
//
// What a peer needs to reach QP `qpn` on `port`, whose first PSN is `psn`
// (qkey 0 and no buffer: set them for UD or RDMA as needed).
QpEndpoint MakeEndpoint(const PortAddress& port, uint32_t qpn, uint32_t psn);

// MakeAhAttr()
//
// The route from `local` to `remote`: global (GRH) with the remote GID, the
// local GID index, `hop_limit` and `traffic_class`; the remote LID for
// InfiniBand. Used for RC RTR and for UD address handles.
ibv_ah_attr MakeAhAttr(const PortAddress& local, const QpEndpoint& remote,
                       uint8_t hop_limit = 64, uint8_t traffic_class = 0);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_PORT_ADDRESS_H_
