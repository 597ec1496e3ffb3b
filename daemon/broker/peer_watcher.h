// PeerWatcher: keeps this swiftd's view of the connections it made with
// other hosts current (issue 12). Every `interval`, one thread of its own
// calls Watch (proto/peer.proto) on each peer that connections were made
// with, acknowledging what that peer's last answer carried, and hands
// each outcome to its owner (the Broker): the peer's incarnation (a
// restart ends every connection made with the old one), the connections
// its services ended on their own, or why the peer did not answer.
//
// This is what lets a pre-connected pair be checked with one local call:
// a pair whose remote side is gone is known here within about one
// interval. Idle when there are no connections: nothing is called.
// Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_PEER_WATCHER_H_
#define SWIFT_DAEMON_BROKER_PEER_WATCHER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/broker/peer_directory.h"
#include "proto/peer.pb.h"

namespace swift {

class PeerWatcher final {
 public:
  // The peers to watch now (directory addresses).
  using TargetsFn = std::function<std::vector<std::string>()>;
  // What watching one of them gave.
  using WatchedFn = std::function<void(
      const std::string& address,
      const absl::StatusOr<peer::v1::WatchResponse>& watched)>;

  // Starts the thread; `interval` zero or less: never watches (no thread).
  // `peers` must outlive the watcher.
  PeerWatcher(PeerDirectory* peers, absl::Duration interval, TargetsFn targets,
              WatchedFn watched);
  PeerWatcher(const PeerWatcher&) = delete;
  PeerWatcher& operator=(const PeerWatcher&) = delete;
  ~PeerWatcher();

  // WatchNow(): one round at once on the calling thread (tests; the
  // thread keeps its own pace).
  void WatchNow();

  // Rounds done (for tests and listings).
  uint64_t rounds() const;

 private:
  // What a peer's last answer carried, acknowledged in the next call.
  struct Acks {
    std::vector<uint64_t> closed;
    bool closes_lost = false;
  };

  void Loop();
  absl::StatusOr<peer::v1::WatchResponse> Watch(const std::string& address,
                                                const Acks& acks);

  PeerDirectory* const peers_;
  const absl::Duration interval_;
  const TargetsFn targets_;
  const WatchedFn watched_;
  // One round at a time (the thread's and WatchNow()'s).
  absl::Mutex round_mu_;
  absl::flat_hash_map<std::string, Acks> acks_ ABSL_GUARDED_BY(round_mu_);
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_WATCHER_H_
