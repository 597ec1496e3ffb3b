// How swiftctl shows memory leases and the fast path's attached clients
// (`swiftctl leases`, `swiftctl clients`; issue 11) as tables; --json uses
// FormatJson (format.h). Pure functions of the messages; thread-safe.
#ifndef SWIFT_TOOLS_SWIFTCTL_FORMAT_LEASES_H_
#define SWIFT_TOOLS_SWIFTCTL_FORMAT_LEASES_H_

#include <cstdint>
#include <string>

#include "proto/fast_path.pb.h"

namespace swift::swiftctl {

// "512 B", "64 KiB", "4 MiB", "1.5 GiB".
std::string FormatBytes(uint64_t bytes);

// One row per lease (id, tenant, holder, size, huge pages, device, age),
// then the totals, each tenant's pool and the quotas.
std::string FormatLeases(const v1::ListLeasesResponse& leases);

// One row per attached fast path connection (CALLS and SERVICE).
std::string FormatClients(const v1::ListClientsResponse& clients);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_FORMAT_LEASES_H_
