// GID helpers; see gid.h.
#include "common/verbs/gid.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errno_status.h"

namespace swift::verbs {
namespace {

// The most entries one ibv_query_gid_table() can return: the kernel gets
// the output array as an ioctl attribute with a 16-bit byte length, so
// 2048 entries of 32 bytes (and anything larger) fail with EINVAL (measured
// on rxe, kernel 6.1). rxe has 1024 entries per port.
constexpr size_t kMaxGidEntries = 0xffff / sizeof(ibv_gid_entry);

constexpr uint8_t kIpv4MappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::string GidToString(const ibv_gid& gid) {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, gid.raw, text, sizeof(text)) == nullptr) {
    return "?";
  }
  return text;
}

absl::StatusOr<ibv_gid> ParseGid(absl::string_view text) {
  const std::string input(text);
  ibv_gid gid = {};
  if (inet_pton(AF_INET6, input.c_str(), gid.raw) == 1) {
    return gid;
  }
  in_addr ipv4 = {};
  if (inet_pton(AF_INET, input.c_str(), &ipv4) == 1) {
    std::memcpy(gid.raw, kIpv4MappedPrefix, sizeof(kIpv4MappedPrefix));
    std::memcpy(gid.raw + 12, &ipv4.s_addr, 4);
    return gid;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is neither an IPv6 nor an IPv4 address"));
}

bool IsIpv4MappedGid(const ibv_gid& gid) {
  return std::memcmp(gid.raw, kIpv4MappedPrefix, sizeof(kIpv4MappedPrefix)) ==
         0;
}

std::string GidTypeName(uint32_t gid_type) {
  switch (gid_type) {
    case IBV_GID_TYPE_IB:
      return "IB";
    case IBV_GID_TYPE_ROCE_V1:
      return "RoCE v1";
    case IBV_GID_TYPE_ROCE_V2:
      return "RoCE v2";
    default:
      return absl::StrCat("type ", gid_type);
  }
}

absl::StatusOr<ibv_gid_entry> SelectRoceV2Ipv4GidEntry(
    const std::vector<ibv_gid_entry>& table, uint32_t port_num,
    absl::string_view ipv4) {
  ibv_gid wanted = {};
  if (!ipv4.empty()) {
    in_addr address = {};
    if (inet_pton(AF_INET, std::string(ipv4).c_str(), &address) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", ipv4, "' is not an IPv4 address"));
    }
    std::memcpy(wanted.raw, kIpv4MappedPrefix, sizeof(kIpv4MappedPrefix));
    std::memcpy(wanted.raw + 12, &address.s_addr, 4);
  }
  const ibv_gid_entry* best = nullptr;
  std::vector<std::string> seen;
  for (const ibv_gid_entry& entry : table) {
    if (entry.port_num != port_num) {
      continue;
    }
    seen.push_back(absl::StrCat(entry.gid_index, "=", GidToString(entry.gid),
                                " (", GidTypeName(entry.gid_type), ")"));
    if (entry.gid_type != IBV_GID_TYPE_ROCE_V2 || !IsIpv4MappedGid(entry.gid)) {
      continue;
    }
    if (!ipv4.empty() &&
        std::memcmp(entry.gid.raw, wanted.raw, sizeof(wanted.raw)) != 0) {
      continue;
    }
    // The table need not be sorted: keep the lowest index, so the choice is
    // stable whatever order the kernel reports.
    if (best == nullptr || entry.gid_index < best->gid_index) {
      best = &entry;
    }
  }
  if (best == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no RoCE v2 IPv4-mapped GID", ipv4.empty() ? "" : " for ", ipv4,
        " on port ", port_num,
        " (entries: ", seen.empty() ? "none" : absl::StrJoin(seen, ", "), ")"));
  }
  return *best;
}

absl::StatusOr<uint32_t> SelectRoceV2Ipv4GidIndex(
    const std::vector<ibv_gid_entry>& table, uint32_t port_num,
    absl::string_view ipv4) {
  absl::StatusOr<ibv_gid_entry> entry =
      SelectRoceV2Ipv4GidEntry(table, port_num, ipv4);
  if (!entry.ok()) {
    return entry.status();
  }
  return entry->gid_index;
}

absl::StatusOr<std::vector<ibv_gid_entry>> QueryGidTable(ibv_context* context) {
  std::vector<ibv_gid_entry> entries(kMaxGidEntries);
  const ssize_t count =
      ibv_query_gid_table(context, entries.data(), entries.size(), 0);
  if (count < 0) {
    // ibv_query_gid_table returns the negated errno.
    return ErrnoStatus(static_cast<int>(-count),
                       absl::StrCat("ibv_query_gid_table(",
                                    ibv_get_device_name(context->device), ")"));
  }
  entries.resize(static_cast<size_t>(count));
  return entries;
}

absl::StatusOr<ibv_gid_entry> QueryGidEntry(ibv_context* context,
                                            uint32_t port_num,
                                            uint32_t gid_index) {
  ibv_gid_entry entry = {};
  const int rc = ibv_query_gid_ex(context, port_num, gid_index, &entry, 0);
  if (rc != 0) {
    const std::string what =
        absl::StrCat("ibv_query_gid_ex(", ibv_get_device_name(context->device),
                     ", port ", port_num, ", index ", gid_index, ")");
    // An empty slot reports ENODATA, an index past the table EINVAL: both
    // mean "no such GID" to a caller.
    if (rc == ENODATA || rc == EINVAL) {
      return absl::NotFoundError(absl::StrCat(what, ": ", std::strerror(rc)));
    }
    return ErrnoStatus(rc, what);
  }
  return entry;
}

absl::StatusOr<ibv_gid_entry> FindRoceV2Ipv4GidEntry(ibv_context* context,
                                                     uint32_t port_num,
                                                     absl::string_view ipv4) {
  absl::StatusOr<std::vector<ibv_gid_entry>> table = QueryGidTable(context);
  if (!table.ok()) {
    return table.status();
  }
  absl::StatusOr<ibv_gid_entry> entry =
      SelectRoceV2Ipv4GidEntry(*table, port_num, ipv4);
  if (!entry.ok()) {
    return absl::Status(entry.status().code(),
                        absl::StrCat(ibv_get_device_name(context->device), ": ",
                                     entry.status().message()));
  }
  return entry;
}

absl::StatusOr<uint32_t> FindRoceV2Ipv4GidIndex(ibv_context* context,
                                                uint32_t port_num,
                                                absl::string_view ipv4) {
  absl::StatusOr<ibv_gid_entry> entry =
      FindRoceV2Ipv4GidEntry(context, port_num, ipv4);
  if (!entry.ok()) {
    return entry.status();
  }
  return entry->gid_index;
}

}  // namespace swift::verbs
