// DeviceInfo: what an open RDMA device is and can do, read once via verbs.
//
// Plain data with no verbs objects inside: safe to copy, keep and share.
#ifndef SWIFT_COMMON_VERBS_DEVICE_INFO_H_
#define SWIFT_COMMON_VERBS_DEVICE_INFO_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swift::verbs {

struct GidInfo {
  uint32_t index = 0;
  std::string gid;   // IPv6 text form, e.g. "::ffff:10.77.0.1".
  std::string type;  // "IB", "RoCE v1" or "RoCE v2".
  bool ipv4_mapped = false;  // ::ffff:a.b.c.d, the RoCEv2/IPv4 address.
  // The network device the entry belongs to (RoCE), e.g. "vethA"; empty
  // and 0 on InfiniBand or when the kernel does not say.
  std::string netdev;
  uint32_t netdev_ifindex = 0;
};

struct PortInfo {
  uint32_t port_num = 0;  // 1-based, as verbs number ports.
  std::string state;      // "ACTIVE", "DOWN", "INIT", ...
  bool active = false;
  uint32_t max_mtu_bytes = 0;
  uint32_t active_mtu_bytes = 0;
  std::string link_layer;  // "Ethernet" or "InfiniBand".
  uint32_t lid = 0;
  std::vector<GidInfo> gids;  // Only the valid entries.
  // "LINK_UP", "DISABLED", ... (the physical state ibv_devinfo prints).
  std::string phys_state;
  // "10.0 Gbps", "4X" (PortSpeedName()/PortWidthName()).
  std::string speed;
  std::string width;
  uint32_t gid_table_len = 0;
};

struct DeviceInfo {
  std::string name;
  uint64_t node_guid = 0;  // Host byte order.
  std::string node_type;   // "CA", "RNIC", ...
  std::string transport;   // "InfiniBand", "iWARP", ...
  std::string firmware_version;
  uint32_t vendor_id = 0;
  uint32_t vendor_part_id = 0;
  int num_comp_vectors = 0;
  uint32_t max_qp = 0;
  uint32_t max_qp_wr = 0;
  uint32_t max_cq = 0;
  uint32_t max_cqe = 0;
  uint32_t max_mr = 0;
  uint64_t max_mr_size = 0;
  uint32_t max_pd = 0;
  uint32_t max_sge = 0;
  uint32_t max_qp_rd_atom = 0;
  uint32_t max_srq = 0;
  uint64_t page_size_cap = 0;
  // "NONE", "HCA" or "GLOB" (ibv_atomic_cap).
  std::string atomic_cap;
  // The uverbs character device libibverbs opened, e.g. "uverbs2": the
  // name the kernel's uevents use for it.
  std::string uverbs_device;
  std::vector<PortInfo> ports;
  // Whether another process can import this context (ibv_import_device):
  // mlx5 yes, rxe no. Probed, never assumed from the driver name.
  bool context_import_supported = false;
  // When not supported: ibv_import_device's error text, e.g. "Operation
  // not supported" (rxe), so a report can say why.
  std::string context_import_error;
};

// QueryDeviceInfo()
//
// Reads the attributes, ports and GID table of the open `context`. Fails with
// the status of the first verb that fails (ibv_query_device,
// ibv_query_port); an unreadable GID table is not an error: the port then
// lists no GIDs. Does not block beyond the verbs calls it makes.
absl::StatusOr<DeviceInfo> QueryDeviceInfo(ibv_context* context);

// PortSpeedName(), PortWidthName()
//
// ibv_port_attr's active_speed and active_width as ibv_devinfo shows them
// ("25.0 Gbps", "4X"); "invalid speed N"/"invalid width N" otherwise.
std::string PortSpeedName(uint8_t active_speed);
std::string PortWidthName(uint8_t active_width);

// QueryPorts()
//
// Ports 1..`port_count` of `context` and their GID tables, as
// QueryDeviceInfo() reads them; what a port event re-reads. Fails with the
// first failing ibv_query_port's status.
absl::StatusOr<std::vector<PortInfo>> QueryPorts(ibv_context* context,
                                                 uint32_t port_count);

// FormatGuid()
//
// A GUID in the usual colon-separated form, e.g. "5254:00ff:fe12:3456".
std::string FormatGuid(uint64_t guid);

// LinkLayerName()
//
// "InfiniBand", "Ethernet" or "Unspecified" (PortInfo::link_layer).
std::string LinkLayerName(uint8_t link_layer);

// MtuBytes()
//
// The size in bytes of a verbs MTU enum (IBV_MTU_1024 -> 1024), 0 if unknown.
uint32_t MtuBytes(ibv_mtu mtu);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_DEVICE_INFO_H_
