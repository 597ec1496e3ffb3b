// ClosedNotices: connections this host's services ended on their own (the
// application closed its side, or went away), kept for the swiftd that
// made each one until its next Watch (proto/peer.proto) collects them.
//
// The client's swiftd acknowledges what it received in its next Watch, so
// that a lost answer loses nothing. Bounded: at most `max_per_caller`
// notices per calling swiftd (past that the oldest go and the caller is
// told some were lost, so that it treats every connection made here as
// ended) and `max_callers` callers (the one heard from longest ago goes);
// a caller silent for `max_age` is forgotten. A caller is a swiftd's
// identity (its IP, as PeerHandler knows callers) and incarnation: two
// swiftds on one address are kept apart. Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_CLOSED_NOTICES_H_
#define SWIFT_DAEMON_BROKER_CLOSED_NOTICES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace swift {

class ClosedNotices final {
 public:
  struct Options {
    size_t max_per_caller = 4096;
    size_t max_callers = 1024;
    absl::Duration max_age = absl::Minutes(10);
    // The most one Collect() returns (a WatchResponse stays small).
    size_t max_batch = 1024;
  };

  struct Batch {
    std::vector<uint64_t> closed;  // Client connection ids.
    bool lost = false;
  };

  ClosedNotices() : ClosedNotices(Options()) {}
  explicit ClosedNotices(Options options) : options_(options) {}

  // Add(): the service ended the connection `caller` (incarnation
  // `incarnation`) knows as `client_connection_id`. Ignored for an
  // unknown caller ("" or incarnation 0: nobody could collect it).
  void Add(const std::string& caller, uint64_t incarnation,
           uint64_t client_connection_id, absl::Time now);

  // Collect(): forgets what `caller` acknowledged (`acked`, and the lost
  // flag when `acked_lost`), then returns what is left for it, oldest
  // first. Notices of the caller's other incarnations are dropped: that
  // swiftd restarted and holds none of those connections.
  Batch Collect(const std::string& caller, uint64_t incarnation,
                absl::Span<const uint64_t> acked, bool acked_lost,
                absl::Time now);

  // Notices kept, over all callers.
  size_t size() const;

 private:
  struct Kept {
    std::deque<uint64_t> closed;
    bool lost = false;
    absl::Time touched;
  };
  using Key = std::pair<std::string, uint64_t>;

  void ForgetStaleLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, Kept> kept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_CLOSED_NOTICES_H_
