// DirectoryUrl: where the cluster's service directory lives, as an operator
// writes it in swiftd --directory: "etcd://host:port[,host:port...][/prefix]".
//
// The endpoints are an etcd cluster's client URLs (any member answers; the
// client fails over between them). The prefix scopes every key swiftd reads
// or writes, so that several Swift clusters can share one etcd; it
// defaults to "/swift".
#ifndef SWIFT_DAEMON_DIRECTORY_DIRECTORY_URL_H_
#define SWIFT_DAEMON_DIRECTORY_DIRECTORY_URL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swift {

struct DirectoryUrl {
  // "host:port" each, in the order given.
  std::vector<std::string> endpoints;
  // Starts with '/', no trailing '/'.
  std::string prefix;
  // The URL as given, for messages ("the directory etcd://...").
  std::string text;

  // "<prefix>/hosts/": the folder of host records.
  std::string HostsPrefix() const { return prefix + "/hosts/"; }
};

// ParseDirectoryUrl(): kInvalidArgument with what is wrong and an example.
absl::StatusOr<DirectoryUrl> ParseDirectoryUrl(const std::string& text);

// Whether `name` may name a host in the directory (its key's last part):
// letters, digits, '-', '.', '_', 1 to 253 of them. Anything else (a '/',
// a blank, a control byte) is refused, in a record and in --host_name.
bool IsValidDirectoryHostName(const std::string& name);

}  // namespace swift

#endif  // SWIFT_DAEMON_DIRECTORY_DIRECTORY_URL_H_
