// `swiftctl directory`; see format_directory.h.
#include "tools/swiftctl/format_directory.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/swiftctl/format.h"

namespace swift::swiftctl {
namespace {

uint64_t MillisToMicros(int64_t millis) {
  return millis <= 0 ? 0 : static_cast<uint64_t>(millis) * 1000;
}

// "directory etcd://...: reachable (revision 42)" or, when swiftd cannot
// reach it, since when and why: connects then use what swiftd cached.
std::string DirectoryLine(const v1::ListDirectoryResponse& directory,
                          int64_t now_unix_ms) {
  std::string line =
      absl::StrCat("directory: ", directory.url(),
                   directory.transport().empty()
                       ? ""
                       : absl::StrCat(" (", directory.transport(), ")"),
                   ": ");
  if (directory.reachable()) {
    absl::StrAppend(&line, "reachable, revision ", directory.revision());
  } else {
    absl::StrAppend(&line, "UNREACHABLE");
    if (directory.since_unix_ms() > 0) {
      absl::StrAppend(
          &line, " for ",
          FormatDuration(MillisToMicros(
              now_unix_ms - static_cast<int64_t>(directory.since_unix_ms()))));
    }
    absl::StrAppend(&line, " (connects use the hosts cached below)");
  }
  absl::StrAppend(&line, "\n");
  if (!directory.last_error().empty()) {
    absl::StrAppend(&line, "last error: ", directory.last_error(), "\n");
  }
  return line;
}

std::string RegistrationLine(const v1::ListDirectoryResponse& directory) {
  std::string line = absl::StrCat("this host: ", directory.host_name(), ", ");
  if (directory.registered()) {
    absl::StrAppend(&line, "registered under lease ", directory.lease_id(),
                    " (TTL ", FormatDuration(directory.lease_ttl_ms() * 1000),
                    ")");
  } else {
    absl::StrAppend(&line, "NOT registered (retrying)");
  }
  absl::StrAppend(&line, "; registrations ", directory.registrations(),
                  ", watch restarts ", directory.watch_restarts(),
                  ", bad records ", directory.bad_records(), "\n");
  return line;
}

}  // namespace

std::string FormatDirectory(const v1::ListDirectoryResponse& directory,
                            int64_t now_unix_ms) {
  std::string out = absl::StrCat(DirectoryLine(directory, now_unix_ms),
                                 RegistrationLine(directory));
  if (directory.hosts().empty()) {
    absl::StrAppend(&out, "\nNo hosts in the directory.\n");
    return out;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::DirectoryHostInfo& host : directory.hosts()) {
    const bool local = host.host() == directory.host_name();
    rows.push_back(
        {local ? host.host() + " (this host)" : host.host(),
         host.peer_address(), absl::StrCat(host.incarnation()),
         host.services().empty() ? "-" : absl::StrJoin(host.services(), ","),
         host.devices().empty() ? "-" : absl::StrJoin(host.devices(), ", "),
         absl::StrCat(FormatDuration(host.updated_ago_ms() * 1000), " ago")});
  }
  absl::StrAppend(&out, "\n",
                  FormatTable({"HOST", "PEER ADDRESS", "INCARNATION",
                               "SERVICES", "DEVICES", "UPDATED"},
                              rows));
  return out;
}

std::string FormatDirectoryServices(
    const v1::ListDirectoryResponse& directory) {
  // Sorted by service, each one's hosts in the directory's (name) order.
  std::map<std::string, std::vector<std::string>> offering;
  for (const v1::DirectoryHostInfo& info : directory.hosts()) {
    for (const std::string& service : info.services()) {
      offering[service].push_back(info.host() == directory.host_name()
                                      ? info.host() + " (this host)"
                                      : info.host());
    }
  }
  std::string out = absl::StrCat(
      "In the directory ", directory.url(),
      directory.reachable() ? "" : " (UNREACHABLE: as cached)", ":\n");
  if (offering.empty()) {
    return out + "No host offers a service.\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [service, hosts] : offering) {
    rows.push_back(
        {service, absl::StrCat(hosts.size()), absl::StrJoin(hosts, ", ")});
  }
  return out + FormatTable({"SERVICE", "HOSTS", "OFFERED BY"}, rows);
}

}  // namespace swift::swiftctl
