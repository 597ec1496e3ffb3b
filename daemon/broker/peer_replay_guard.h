// PeerReplayGuard: refuses a peer credential that is stale or was seen
// before, so that a request captured on the wire cannot be sent again.
//
// A credential carries its sender's timestamp and a random nonce. The
// guard accepts it when the timestamp is within `max_skew` of this host's
// clock and the nonce is new; it remembers each accepted nonce until its
// timestamp falls out of the window (after which the skew check alone
// refuses it). Memory is bounded: past `capacity` remembered nonces the
// oldest are forgotten and every credential not newer than the newest
// forgotten one is refused (the window shrinks under load instead of the
// guard growing; fresh requests, stamped now, still pass).
//
// Check only credentials whose MAC verified: then only holders of the
// secret can fill the memory. Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_PEER_REPLAY_GUARD_H_
#define SWIFT_DAEMON_BROKER_PEER_REPLAY_GUARD_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace swift {

class PeerReplayGuard final {
 public:
  // About 100 bytes each: the default bounds the guard near 25 MB and
  // covers the whole window up to ~4,000 requests/s with a 30 s skew.
  static constexpr size_t kDefaultCapacity = 1 << 18;

  PeerReplayGuard(absl::Duration max_skew, size_t capacity)
      : max_skew_(max_skew), capacity_(capacity) {}
  PeerReplayGuard(const PeerReplayGuard&) = delete;
  PeerReplayGuard& operator=(const PeerReplayGuard&) = delete;

  // Check()
  //
  // Accepts (and remembers) `nonce` sent at `sent` when fresh and new at
  // `now`; kUnauthenticated saying why not (clock skew, replay).
  absl::Status Check(absl::Time sent, const std::string& nonce,
                     absl::Time now);

  size_t size() const;
  absl::Duration max_skew() const { return max_skew_; }

 private:
  using Entry = std::pair<int64_t, std::string>;  // (sent, µs; nonce)

  const absl::Duration max_skew_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  // Oldest first.
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> by_time_
      ABSL_GUARDED_BY(mu_);
  // Credentials sent at or before this (µs) are refused: their nonces
  // may have been forgotten.
  int64_t floor_us_ ABSL_GUARDED_BY(mu_) = std::numeric_limits<int64_t>::min();
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_REPLAY_GUARD_H_
