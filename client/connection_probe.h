// ProbeConnection: proves that a connection's peer QP is still there
// before a pre-connected pair is handed out (issue 12). Internal to
// libswift.
//
// One signaled zero-length RDMA WRITE: the peer's NIC acknowledges it
// without touching memory, consuming a receive or raising a completion on
// the peer's side, so the application there never sees it. A peer whose QP
// is gone (its process died, its host is down) never answers, and one in
// error answers with an error: either way the pair is not used.
#ifndef SWIFT_CLIENT_CONNECTION_PROBE_H_
#define SWIFT_CLIENT_CONNECTION_PROBE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "swift/session.h"

namespace swift {

// The probe's wr_id (never an application's: the pair is not handed out
// until the probe completed).
inline constexpr uint64_t kProbeWrId = 0x5357494654505242;  // "SWIFTPRB"

// PostProbe(): posts the probe (so that its round trip overlaps whatever
// the caller does next); the failing verb's status otherwise.
absl::Status PostProbe(const Connection& connection);

// AwaitProbe(): OK once the posted probe completed successfully;
// kDeadlineExceeded when no completion came within `timeout` (the QP is
// left with the request outstanding: recycle or destroy it), or the
// completion's error.
absl::Status AwaitProbe(const Connection& connection, absl::Duration timeout);

}  // namespace swift

#endif  // SWIFT_CLIENT_CONNECTION_PROBE_H_
