// WriteAndReadBack(): the check the connect benchmarks make of a brokered
// connection (connect_bench, soak_client, overhead_client): bytes written
// into the peer's buffer with an RDMA WRITE come back unchanged with an
// RDMA READ. Each WRITE and READ is waited for as the raw-verbs baseline
// waits (verbs::PostAndWait).
#ifndef SWIFT_TOOLS_BENCH_WRITE_READ_BACK_H_
#define SWIFT_TOOLS_BENCH_WRITE_READ_BACK_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "swift/session.h"

namespace swift::bench {

// Bytes written and read back.
inline constexpr size_t kReadBackBytes = 64;

// Fills kReadBackBytes of the connection's buffer at `local_offset` with
// `fill`, `label` written over their start, WRITEs them to the peer's
// buffer at `remote_offset`, READs them back into the next kReadBackBytes
// (`local_offset` + kReadBackBytes, cleared first) and compares.
// kDataLoss when they differ; the verbs' error otherwise. The caller checks
// that both buffers hold the offsets.
absl::Status WriteAndReadBack(Connection& connection, size_t local_offset,
                              size_t remote_offset, char fill,
                              const std::string& label);

}  // namespace swift::bench

#endif  // SWIFT_TOOLS_BENCH_WRITE_READ_BACK_H_
