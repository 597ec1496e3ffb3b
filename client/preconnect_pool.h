// PreconnectPool: connections made ahead of time, per (host, service), so
// that Session::Connect() to a prewarmed service costs one local check
// instead of a handshake across both hosts (issue 12). Internal to
// libswift; see Session::Prewarm() for the contract.
//
// Policy:
//   - Prewarm(host, service, n) sets the service's target and connects up
//     to n now; a refill thread of its own keeps each service at its
//     target as Take() uses pairs, one handshake at a time, backing off
//     (up to kMaxBackoff) after a failure.
//   - Bounded: all targets together stay within Options::max_pairs.
//   - Take() hands out the newest pair only after `check` (the local
//     swiftd: does the remote side still stand?) and the probe (the peer's
//     NIC answers on it; posted before the check, so that the two overlap)
//     agreed; the check needs no call while swiftd's change page
//     (`generation`) stands where it stood when every pooled pair was last
//     known live (a prune that covered them all, or their making); a pair that
//     fails either is closed and the next one tried (kMaxTriesPerTake in all).
//     A failed probe means the peer's QPs are likely all gone: the service's
//     other pairs are closed too and refilled.
//   - Every kPruneInterval the refill thread checks all pooled pairs with
//     swiftd in one call and closes those it says ended, so dead pairs do
//     not wait for a Take() to be found.
//   - A service no Take() used for Options::idle_timeout is dropped: its
//     pairs closed, its target forgotten until the next Prewarm().
//
// Everything that touches the device or swiftd goes through Hooks, so the
// policy is tested on a host without either (preconnect_pool_test.cc).
// Thread-safe.
#ifndef SWIFT_CLIENT_PRECONNECT_POOL_H_
#define SWIFT_CLIENT_PRECONNECT_POOL_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/connection_impl.h"
#include "swift/session.h"

namespace swift {

class PreconnectPool final {
 public:
  static constexpr int kMaxTriesPerTake = 3;
  static constexpr absl::Duration kPruneInterval = absl::Milliseconds(500);
  static constexpr absl::Duration kMaxBackoff = absl::Seconds(5);

  struct Options {
    int max_pairs = 64;
    absl::Duration idle_timeout = absl::Minutes(10);
    // Each background handshake's timeout.
    absl::Duration connect_timeout = absl::Seconds(5);
  };

  // Where swiftd's change count stood: which watch of its change page (a
  // new watch, after swiftd restarted, counts from 0 again: its counts say
  // nothing of pairs made before) and the count.
  struct ChangeCount {
    uint64_t watch = 0;
    uint64_t count = 0;
    bool operator==(const ChangeCount& other) const {
      return watch == other.watch && count == other.count;
    }
    bool operator!=(const ChangeCount& other) const {
      return !(*this == other);
    }
  };

  struct Hooks {
    // A new connection by a full handshake.
    std::function<absl::StatusOr<std::unique_ptr<ConnectionImpl>>(
        const std::string& host, const std::string& service,
        absl::Duration timeout)>
        connect;
    // For each id, in order: "" while swiftd says it stands, else why not.
    std::function<absl::StatusOr<std::vector<std::string>>(
        const std::vector<uint64_t>& ids)>
        check;
    // The count of swiftd's change page (client/change_watch.h): it grows
    // whenever swiftd finds one of this tenant's connections ended or
    // suspect. nullopt (or no hook): unknown, and every take calls `check`.
    std::function<std::optional<ChangeCount>()> generation;
    // Sends the probe on the pair (its round trip overlaps the check).
    std::function<absl::Status(const ConnectionImpl&)> post_probe;
    // OK when the peer answered the probe.
    std::function<absl::Status(const ConnectionImpl&)> await_probe;
  };

  // What Take() gave: a checked pair, or none (then `why_not` says why,
  // empty when the service simply has none ready or is not prewarmed).
  struct Taken {
    std::unique_ptr<ConnectionImpl> connection;
    double check_us = 0;
    double probe_us = 0;
    std::string why_not;
  };

  PreconnectPool(Options options, Hooks hooks);
  PreconnectPool(const PreconnectPool&) = delete;
  PreconnectPool& operator=(const PreconnectPool&) = delete;
  // Stops the refill thread and closes every pooled pair.
  ~PreconnectPool();

  absl::StatusOr<int> Prewarm(const std::string& host,
                              const std::string& service, int count,
                              absl::Duration timeout);
  Taken Take(const std::string& host, const std::string& service);
  PreconnectStats stats() const;

  // One background round now, on the calling thread (tests): expire, prune
  // and refill.
  void RunRound();

 private:
  struct Service {
    std::string host;
    std::string name;
    int target = 0;
    // Newest last.
    std::deque<std::unique_ptr<ConnectionImpl>> ready;
    absl::Time last_used;
    // No background handshake before this (after a failure).
    absl::Time next_attempt;
    absl::Duration backoff;
  };

  static std::string KeyOf(const std::string& host, const std::string& service);
  // Starts the refill thread on first use.
  void StartThreadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  // One handshake for `key`, pooled on success; false (and the service
  // backs off) on failure.
  bool RefillOne(const std::string& key, absl::Duration timeout,
                 absl::Status* error);
  void Expire(absl::Time now);
  void Prune();
  void Refill();
  // Counts `count` pairs dropped for `reason` (mu_ held).
  void NoteDiscardLocked(int count, const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `key` is still prewarmed and below its target (and the pool
  // not stopping): one more pair is wanted.
  bool WantsMoreLocked(const std::string& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int TargetsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<ChangeCount> GenerationNow() const;
  int ReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const Hooks hooks_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Service> services_ ABSL_GUARDED_BY(mu_);
  PreconnectStats stats_ ABSL_GUARDED_BY(mu_);
  // Set by Take() when a service runs below its target.
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  // The change count at which every pooled pair was known live (a prune
  // read it before asking about them all, or a pair was made at it);
  // nullopt while some pair was not.
  std::optional<ChangeCount> verified_generation_ ABSL_GUARDED_BY(mu_);
  // Pairs pooled so far: a prune that saw this change under it did not
  // cover them all.
  uint64_t additions_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // One round at a time (the thread's, RunRound()'s).
  absl::Mutex round_mu_;
  std::thread thread_;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_PRECONNECT_POOL_H_
