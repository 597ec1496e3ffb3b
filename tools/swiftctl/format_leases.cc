// The lease and client tables; see format_leases.h.
#include "tools/swiftctl/format_leases.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/swiftctl/format.h"

namespace swift::swiftctl {

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0 || value == static_cast<double>(static_cast<uint64_t>(value))) {
    return absl::StrCat(static_cast<uint64_t>(value), " ", kUnits[unit]);
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

namespace {

std::string Quota(uint64_t quota, const std::string& text) {
  return quota == 0 ? "no limit" : text;
}

}  // namespace

std::string FormatLeases(const v1::ListLeasesResponse& response) {
  std::string out;
  if (response.leases().empty()) {
    out = "No memory leases.\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const v1::LeaseInfo& lease : response.leases()) {
      rows.push_back(
          {absl::StrCat(lease.lease_id()), absl::StrCat(lease.tenant_uid()),
           absl::StrCat(lease.holder_pid()), lease.holder_name(),
           FormatBytes(lease.size_bytes()), lease.hugepage() ? "yes" : "no",
           lease.device().empty()         ? "-"
           : lease.device_error().empty() ? lease.device()
                                          : lease.device() + " (gone)",
           FormatDuration(lease.age_us())});
    }
    out = FormatTable(
        {"ID", "TENANT", "PID", "HOLDER", "SIZE", "HUGEPAGE", "DEVICE", "AGE"},
        rows);
  }
  absl::StrAppend(&out, "\ntotal: ", response.total_leases(), " lease(s), ",
                  FormatBytes(response.total_bytes()), "\n");
  // A lease whose device left the host: its holder must start again
  // elsewhere (LeaseManager::Check).
  for (const v1::LeaseInfo& lease : response.leases()) {
    if (!lease.device_error().empty()) {
      absl::StrAppend(&out, "lease ", lease.lease_id(), ": device ",
                      lease.device(), " is gone: ", lease.device_error(), "\n");
    }
  }
  for (const v1::LeasePoolInfo& pool : response.pools()) {
    absl::StrAppend(&out, "pool of uid ", pool.tenant_uid(), ": ",
                    pool.ready_regions(), " region(s) ready, ",
                    FormatBytes(pool.ready_bytes()),
                    pool.hugepage() ? ", huge pages" : ", normal pages", "\n");
  }
  if (response.populated_bytes() > 0) {
    const double mib =
        static_cast<double>(response.populated_bytes()) / (1 << 20);
    absl::StrAppend(
        &out,
        "populated ahead of time: ", FormatBytes(response.populated_bytes()),
        " in ", FormatDuration(response.populate_us()),
        absl::StrFormat(" (%.0f us per MiB)\n",
                        static_cast<double>(response.populate_us()) / mib));
  }
  absl::StrAppend(&out, "quotas: ",
                  Quota(response.max_leases_per_tenant(),
                        absl::StrCat(response.max_leases_per_tenant())),
                  " leases and ",
                  Quota(response.max_lease_bytes_per_tenant(),
                        FormatBytes(response.max_lease_bytes_per_tenant())),
                  " per tenant, ",
                  Quota(response.max_lease_bytes_total(),
                        FormatBytes(response.max_lease_bytes_total())),
                  " in all\n");
  return out;
}

std::string FormatClients(const v1::ListClientsResponse& response) {
  if (response.clients().empty()) {
    return "No fast path clients attached.\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::AttachedClient& client : response.clients()) {
    rows.push_back({absl::StrCat(client.channel_id()),
                    absl::StrCat(client.pid()), absl::StrCat(client.uid()),
                    client.name().empty() ? "-" : client.name(), client.kind(),
                    FormatDuration(client.age_us()) + " ago",
                    absl::StrCat(client.leases()),
                    FormatBytes(client.lease_bytes()),
                    absl::StrCat(client.shared_contexts())});
  }
  return FormatTable({"CHANNEL", "PID", "UID", "NAME", "KIND", "SINCE",
                      "LEASES", "LEASED", "CONTEXTS"},
                     rows);
}

}  // namespace swift::swiftctl
