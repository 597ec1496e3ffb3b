// How swiftctl shows swiftd's answers: aligned tables for people, JSON for
// scripts. Pure functions of the messages; thread-safe.
#ifndef SWIFT_TOOLS_SWIFTCTL_FORMAT_H_
#define SWIFT_TOOLS_SWIFTCTL_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "google/protobuf/message.h"
#include "proto/swift.pb.h"
#include "tools/swiftctl/format_devices.h"

namespace swift::swiftctl {

// A table whose columns are padded to their widest cell.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// "3d 4h", "2h 5m", "1m 7s", "12s", "340ms".
std::string FormatDuration(uint64_t microseconds);

// `swiftctl status` as "key: value" lines.
std::string FormatStatus(const v1::GetStatusResponse& status);

// `swiftctl devices`: FormatDevices() in format_devices.h.

// `swiftctl peers`: other hosts' swiftds, where their addresses came from
// (--peers, --directory or a client's "ip:port") and their cached metadata, the
// calls made to each and the peer gate's counts (admitted/refused by
// reason), per peer and in total.
std::string FormatPeers(const v1::ListPeersResponse& peers);

// `swiftctl services`: local services and their advertised QP pools.
std::string FormatServices(const v1::ListServicesResponse& services);

// `swiftctl pools`: the ready QPs of each service, and the handshake
// admission state.
std::string FormatPools(const v1::ListServicesResponse& services,
                        const v1::ListConnectionsResponse& connections);

// `swiftctl connections`: brokered connections, admission and failures.
std::string FormatConnections(const v1::ListConnectionsResponse& connections);

// `swiftctl tenants`: each tenant's use against its quotas.
std::string FormatTenants(const v1::ListTenantsResponse& tenants);

// `swiftctl workers`, `register` and `invoke`.
std::string FormatWorkers(const v1::ListWorkersResponse& workers);
std::string FormatRegistered(const v1::RegisterFunctionResponse& registered);
std::string FormatUnregistered(
    const v1::UnregisterFunctionResponse& unregistered);
std::string FormatInvoked(const v1::InvokeResponse& invoked);

// Any answer as JSON with the proto field names, all fields present, one
// object per line.
std::string FormatJson(const google::protobuf::Message& message);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_FORMAT_H_
