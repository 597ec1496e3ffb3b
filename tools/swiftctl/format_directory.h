// How `swiftctl directory` shows the cluster's service directory as this
// swiftd sees it (ListDirectory): one line on the directory itself (where,
// reachable or since when not, and why), one on this host's registration
// (lease, TTL, how often it had to register again), then a table of every
// host's record: its peer address, incarnation, services and devices, and
// how fresh the record is. Pure functions of the message; thread-safe.
#ifndef SWIFT_TOOLS_SWIFTCTL_FORMAT_DIRECTORY_H_
#define SWIFT_TOOLS_SWIFTCTL_FORMAT_DIRECTORY_H_

#include <cstdint>
#include <string>

#include "proto/swift.pb.h"

namespace swift::swiftctl {

// FormatDirectory()
//
// `swiftctl directory` as text (see above). `now_unix_ms` is the caller's
// clock, used only to say how long the directory has been unreachable.
std::string FormatDirectory(const v1::ListDirectoryResponse& directory,
                            int64_t now_unix_ms);

// FormatDirectoryServices()
//
// The directory's services and the hosts offering each (`swiftctl
// services` shows it under the services listening here), this host's
// marked.
std::string FormatDirectoryServices(const v1::ListDirectoryResponse& directory);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_FORMAT_DIRECTORY_H_
