// File descriptor headroom: how many descriptors a process may still open,
// and raising its soft limit to the hard one at start.
//
// swiftd's lean servers (connection_server.h) refuse new connections while
// fewer than a reserve of descriptors remain, so that a flood of clients
// can never take the last ones from the Control API (gRPC 1.51's listener
// stops for good after its first EMFILE) or the broker.
//
// Thread-safe: no state of its own (the answers are snapshots).
#ifndef SWIFT_COMMON_FD_LIMITS_H_
#define SWIFT_COMMON_FD_LIMITS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace swift {

// The descriptors the lean servers leave free by default.
inline constexpr int kDefaultFdReserve = 64;

// RaiseFdSoftLimit()
//
// Raises RLIMIT_NOFILE's soft limit to its hard limit and returns the new
// soft limit. Errors carry setrlimit's errno.
absl::StatusOr<uint64_t> RaiseFdSoftLimit();

// FreeFds()
//
// How many more descriptors this process may open now: the soft
// RLIMIT_NOFILE minus the open descriptors (counted in /proc/self/fd, a
// cost linear in them). 0 when they cannot be counted (no descriptor left
// to open the directory with is the usual reason), so callers refuse.
int64_t FreeFds();

}  // namespace swift

#endif  // SWIFT_COMMON_FD_LIMITS_H_
