// EventLoop: the worker's one thread of control, a poll() loop.
//
// Each round the loop asks its Handler what to watch (swiftd's socket,
// the instances', the direct channels') and when it must wake at the
// latest (a deadline, an idle expiry, a spare fork); it sleeps in poll()
// until a watched fd is readable (or hung up) or that time comes, and at
// least every `max_sleep`; it delivers the readable fds in the order they
// were listed, then lets the handler do its timed work (OnRound). A
// handler may end a source while a round still lists it: it is told
// about it all the same and must ignore what it no longer knows.
//
// Thread-compatible: Run() runs on the caller's thread until the handler
// stops it.
#ifndef SWIFT_DAEMON_WORKER_EVENT_LOOP_H_
#define SWIFT_DAEMON_WORKER_EVENT_LOOP_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace swift {

class EventLoop final {
 public:
  // A watched fd and what it is to the handler.
  struct Watch {
    int fd = -1;
    // The handler's own names for the source.
    int kind = 0;
    uint64_t id = 0;
  };

  class Handler {
   public:
    virtual ~Handler() = default;
    // What to watch this round, in the order readable fds are delivered.
    virtual std::vector<Watch> Watches() = 0;
    // When the loop must wake at the latest.
    virtual absl::Time NextWake() = 0;
    // `watch`'s fd is readable or hung up. Returns false to stop the loop
    // (no OnRound() follows).
    virtual bool OnReadable(const Watch& watch) = 0;
    // After each round's events (or its timeout): timed work.
    virtual void OnRound() = 0;
  };

  // Run()
  //
  // Runs rounds until the handler stops the loop (OK) or poll() fails
  // (kInternal).
  static absl::Status Run(Handler& handler,
                          absl::Duration max_sleep = absl::Seconds(1));

  // PollTimeoutMs()
  //
  // poll()'s timeout to wake at `wake` from `now`, at most `max_sleep`:
  // rounded up by a millisecond so that the loop wakes after, not just
  // before, the time; 0 when it is past.
  static int PollTimeoutMs(absl::Time wake, absl::Time now,
                           absl::Duration max_sleep);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_EVENT_LOOP_H_
