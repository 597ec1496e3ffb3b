// The listings behind `swiftctl leases` and `swiftctl clients` (issue 11):
// fetched on swiftd's fast path, where swiftd knows the caller (root sees
// everyone's rows, anyone else its own), page after page until whole.
// Thread-compatible.
#ifndef SWIFT_TOOLS_SWIFTCTL_LEASE_LISTINGS_H_
#define SWIFT_TOOLS_SWIFTCTL_LEASE_LISTINGS_H_

#include "absl/status/statusor.h"
#include "client/fast_path_client.h"
#include "proto/fast_path.pb.h"

namespace swift::swiftctl {

// Each: the whole listing (the first page's totals, every page's rows), or
// the fast path's error (kUnimplemented from a swiftd without leases).
absl::StatusOr<v1::ListLeasesResponse> ListLeases(FastPathClient& fast_path);
absl::StatusOr<v1::ListClientsResponse> ListClients(FastPathClient& fast_path);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_LEASE_LISTINGS_H_
