// PrewarmLearner: which services a session should keep pre-connected pairs
// for, learned from its own Connect()s (issue 12: pool targets learned from
// use, beside the explicit Session::Prewarm()). Internal to libswift.
//
// Policy, per (host, service), over the handshakes of the last `window`:
//   - a service handshaken at least `after` times in the window is worth
//     a pool;
//   - its target is the most handshakes the window saw within any one
//     second (the burst a pool should absorb), at least 1 and at most
//     `max_per_service`;
//   - a target is suggested when it is first reached and whenever it
//     grows, never again for the same or a smaller one: lowering is left to
//     the pool, which drops a service no Connect() used for
//     preconnect_idle_timeout;
//   - a service with no handshake for a whole window is forgotten, so
//     that it is learned afresh (after its pool was dropped, for one).
// Memory is bounded: at most `max_services` are tracked; a new one then
// replaces the one handshaken least recently.
//
// Pure logic: time comes from the caller. Thread-compatible (the session
// calls it under its own lock).
#ifndef SWIFT_CLIENT_PREWARM_LEARNER_H_
#define SWIFT_CLIENT_PREWARM_LEARNER_H_

#include <deque>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace swift {

class PrewarmLearner final {
 public:
  struct Options {
    int after = 4;
    absl::Duration window = absl::Seconds(10);
    int max_per_service = 8;
    int max_services = 64;
  };

  explicit PrewarmLearner(Options options) : options_(options) {}

  // Handshaken()
  //
  // Records a handshake (a Connect() the pool could not serve) to
  // `service` on `host` at `now`. Returns the target to prewarm it to when
  // it has just become worth a pool or its target grew; nullopt otherwise.
  std::optional<int> Handshaken(const std::string& host,
                                const std::string& service, absl::Time now);

  // Services tracked now (tests).
  int tracked() const { return static_cast<int>(services_.size()); }

 private:
  struct Seen {
    std::deque<absl::Time> handshakes;  // Within the window, oldest first.
    int suggested = 0;                  // The largest target suggested.
  };

  // The most handshakes of `seen` within any one second.
  static int PeakPerSecond(const Seen& seen);
  // Forgets services with no handshake in the window, then, when still
  // full, the least recently handshaken one.
  void MakeRoom(absl::Time now);

  const Options options_;
  absl::flat_hash_map<std::string, Seen> services_;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_PREWARM_LEARNER_H_
