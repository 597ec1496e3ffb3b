// GIDs: RoCE's addresses, and choosing the right one on a port.
//
// A RoCE port has a GID table with several entries per IP address (RoCE v1
// and RoCE v2, IPv6 link-local, IPv4-mapped, ...). Swift connects over
// RoCE v2 with IPv4 (routable UDP/4791), so it needs the index of the
// port's RoCE v2 entry whose GID is an IPv4-mapped address (::ffff:a.b.c.d).
// The choice itself (SelectRoceV2Ipv4GidIndex) is pure logic over a table,
// testable without a device; FindRoceV2Ipv4GidEntry reads the real table.
//
// Thread-safe: no state.
#ifndef SWIFT_COMMON_VERBS_GID_H_
#define SWIFT_COMMON_VERBS_GID_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift::verbs {

// GidToString()
//
// The IPv6 text form of `gid`, e.g. "::ffff:10.77.0.1" or "fe80::1".
std::string GidToString(const ibv_gid& gid);

// ParseGid()
//
// The GID written as IPv6 text (GidToString()'s form) or as an IPv4 address
// ("10.77.0.1" -> ::ffff:10.77.0.1). kInvalidArgument otherwise.
absl::StatusOr<ibv_gid> ParseGid(absl::string_view text);

// IsIpv4MappedGid()
//
// Whether `gid` is ::ffff:a.b.c.d, the form of an IPv4 address in a RoCE GID
// table.
bool IsIpv4MappedGid(const ibv_gid& gid);

// GidTypeName()
//
// "IB", "RoCE v1", "RoCE v2" for an ibv_gid_type value, "type N" otherwise.
std::string GidTypeName(uint32_t gid_type);

// SelectRoceV2Ipv4GidIndex()
//
// Among `table` entries of port `port_num`, the lowest gid_index whose type
// is RoCE v2 and whose GID is IPv4-mapped; when `ipv4` is not empty, the GID
// must also be ::ffff:<ipv4> (choose among several addresses on one netdev).
// kNotFound otherwise, listing the port's entries so a human sees why;
// kInvalidArgument when `ipv4` is not an IPv4 address.
absl::StatusOr<uint32_t> SelectRoceV2Ipv4GidIndex(
    const std::vector<ibv_gid_entry>& table, uint32_t port_num,
    absl::string_view ipv4 = "");

// SelectRoceV2Ipv4GidEntry()
//
// The entry SelectRoceV2Ipv4GidIndex() chooses (its index and GID), with
// the same errors.
absl::StatusOr<ibv_gid_entry> SelectRoceV2Ipv4GidEntry(
    const std::vector<ibv_gid_entry>& table, uint32_t port_num,
    absl::string_view ipv4 = "");

// QueryGidTable()
//
// Every valid entry of every port of `context` (ibv_query_gid_table). Errors
// carry its errno (kUnimplemented if the kernel lacks the query).
absl::StatusOr<std::vector<ibv_gid_entry>> QueryGidTable(ibv_context* context);

// QueryGidEntry()
//
// Entry `gid_index` of port `port_num` (ibv_query_gid_ex): its GID and type.
// kNotFound when the entry is empty or out of range (ENODATA/EINVAL from the
// kernel), the verb's errno status otherwise.
absl::StatusOr<ibv_gid_entry> QueryGidEntry(ibv_context* context,
                                            uint32_t port_num,
                                            uint32_t gid_index);

// FindRoceV2Ipv4GidEntry()
//
// SelectRoceV2Ipv4GidIndex() over `context`'s real table: the chosen entry
// (index and GID) from one table query. Blocks only in the verbs query.
absl::StatusOr<ibv_gid_entry> FindRoceV2Ipv4GidEntry(
    ibv_context* context, uint32_t port_num, absl::string_view ipv4 = "");

// FindRoceV2Ipv4GidIndex()
//
// FindRoceV2Ipv4GidEntry()'s index.
absl::StatusOr<uint32_t> FindRoceV2Ipv4GidIndex(ibv_context* context,
                                                uint32_t port_num,
                                                absl::string_view ipv4 = "");

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_GID_H_
