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
  std::vector<PortInfo> ports;
  // Whether another process can import this context (ibv_import_device):
  // mlx5 yes, rxe no. Probed, never assumed from the driver name.
  bool context_import_supported = false;
};

// QueryDeviceInfo()
//
// Reads the attributes, ports and GID table of the open `context`. Fails with
// the status of the first verb that fails (ibv_query_device,
// ibv_query_port); an unreadable GID table is not an error: the port then
// lists no GIDs. Does not block beyond the verbs calls it makes.
absl::StatusOr<DeviceInfo> QueryDeviceInfo(ibv_context* context);

// FormatGuid()
//
// A GUID in the usual colon-separated form, e.g. "5254:00ff:fe12:3456".
std::string FormatGuid(uint64_t guid);

// MtuBytes()
//
// The size in bytes of a verbs MTU enum (IBV_MTU_1024 -> 1024), 0 if unknown.
uint32_t MtuBytes(ibv_mtu mtu);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_DEVICE_INFO_H_
