// RemoteCloser: tells other hosts' swiftds that connections they accepted
// for our clients are closed, so that their services recycle the QPs.
//
// Closes are queued (Enqueue(), cheap, from any thread) and told by one
// thread of its own, off the callers' path, in batches: per peer one
// pipelined batch over its lean link (or one gRPC call each), so a burst
// of closes costs a peer link about one round trip. A close that comes
// while the closer is idle goes at once; after a batch, closes gather for
// kGatherDelay before the next, so that under a steady stream a wake-up
// of this thread, and of the peer's link thread, tells several (at 500
// connects and closes/s, their wake-ups per close were over a fifth of
// swiftd's context switches: 2.6 of 11.5 per connect and close). The thread
// does not wait for a batch's answers: it reads them on its next errand (the
// next batch, or kCollectDelay later), by when they are in, so that a close
// wakes it once, not twice. A close the peer did
// not hear (it was unreachable, the link broke, it did not answer in
// time) is kept and told again once the peer answers anything (a connect
// to it succeeds: PeerAnswered(), or another close reaches it), and when
// idle every kRetryInterval on its own; without that, the peer's service
// would hold the connection for ever (issue 10, faults). Connects given
// up on before their answer came are kept the same way
// (KeepUndelivered()) and closed by the caller's connection id. Kept
// closes are dropped, with a warning, after kRetention or beyond kMaxKept.
// A peer that restarted meanwhile refuses them (its incarnation changed),
// which ends them: its new swiftd holds none of the old connections.
// Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_REMOTE_CLOSER_H_
#define SWIFT_DAEMON_BROKER_REMOTE_CLOSER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/broker/peer_directory.h"
#include "daemon/broker/peer_link_client.h"

namespace swift {

// One connection the peer must hear is closed.
struct RemoteClose {
  std::string peer;  // The address the PeerDirectory knows it by.
  uint64_t peer_incarnation = 0;
  uint64_t connection_id = 0;         // Ours, for logs; 0 when abandoned.
  uint64_t server_connection_id = 0;  // The peer's.
  // Non-zero for a connect given up on before its answer came: the peer
  // may have accepted it, so it is closed by this id (our connection id).
  uint64_t abandoned_client_id = 0;
  // When the peer first failed to hear it; absl::Time() until then.
  absl::Time undelivered_since;
};

class RemoteCloser final {
 public:
  static constexpr absl::Duration kRetention = absl::Minutes(10);
  static constexpr size_t kMaxKept = 1024;
  static constexpr absl::Duration kRetryInterval = absl::Seconds(10);
  // The attempt a troubled peer gets (PeerDirectory::Troubled(): it failed
  // last time, or its host left the directory), and what a stopping
  // closer gives each peer's last batch: a dead peer must hold neither the
  // closer nor swiftd's stop a whole timeout per batch. What it does not
  // hear is kept and told again, as ever.
  static constexpr absl::Duration kShortAttempt = absl::Seconds(1);
  // When a batch's answers are read if no other batch comes first.
  static constexpr absl::Duration kCollectDelay = absl::Milliseconds(20);
  // How long closes gather after a batch before the next is told: the
  // most a close waits beyond its peer's round trip.
  static constexpr absl::Duration kGatherDelay = absl::Milliseconds(5);

  // Calls peers through `peers` (which must outlive this), each batch
  // bounded by `timeout`; batches at least `gather` apart.
  RemoteCloser(PeerDirectory* peers, absl::Duration timeout,
               absl::Duration gather = kGatherDelay);
  RemoteCloser(const RemoteCloser&) = delete;
  RemoteCloser& operator=(const RemoteCloser&) = delete;
  // Waits for the batch being told, tells what is queued (each peer's
  // batch bounded by kShortAttempt; kept closes are not retried), then
  // stops the thread.
  ~RemoteCloser();

  // Queues `close` to be told.
  void Enqueue(RemoteClose close);
  // Keeps `close` (an abandoned connect) until its peer answers.
  void KeepUndelivered(RemoteClose close);
  // `peer` answered a call: what it has not heard goes again.
  void PeerAnswered(const std::string& peer);
  // Closes kept because their peer has not heard them yet.
  size_t undelivered() const;
  // Batches told so far (each one pipeline per peer).
  uint64_t batches() const;

 private:
  // One peer's share of a batch, told: its answers are read by Finish().
  struct Telling {
    std::string address;
    std::vector<RemoteClose> closes;
    // Over the lean link: the batch sent, and its peer (whose link the
    // pipeline belongs to). Otherwise a status per close, known already.
    std::optional<PeerLinkClient::Pipeline> pipeline;
    std::shared_ptr<const PeerDirectory::Peer> peer;
    std::vector<absl::Status> closed;
  };

  void Loop();
  // Tells `batch`'s peers, each within `timeout`.
  std::vector<Telling> Tell(std::vector<RemoteClose> batch,
                            absl::Duration timeout);
  Telling StartTelling(const std::string& address,
                       std::vector<RemoteClose> closes, absl::Duration timeout);
  // Reads what the peer answered (waiting until the batch's deadline at
  // most); keeps what it did not hear.
  void Finish(Telling telling);
  void KeepLocked(RemoteClose close) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseLocked(const std::string& peer)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  PeerDirectory* const peers_;
  const absl::Duration timeout_;
  const absl::Duration gather_;
  mutable absl::Mutex mu_;
  uint64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<RemoteClose> queued_ ABSL_GUARDED_BY(mu_);
  std::deque<RemoteClose> kept_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_REMOTE_CLOSER_H_
