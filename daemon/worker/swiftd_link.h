// SwiftdLink: the worker's end of its control socket to swiftd
// (proto/worker.proto: WorkerDown in, WorkerUp out).
//
// The worker says WorkerReady (or WorkerFailed) once, then answers each
// invocation swiftd sends with one InvokeReply carrying the worker's stats,
// and sends its stats alone when they change between replies (spares
// forked, instances expired, invocations on direct channels), so that
// `swiftctl workers` is current. Not at once, though: a message per
// invocation would wake swiftd on every invocation's path (and cost it CPU)
// for a listing nobody may be reading. Changed stats go once the worker has
// been quiet for kStatsQuiet, and under steady load every kStatsMaxDelay.
// swiftd gone is noticed on the next Receive(): sends ignore it.
// Thread-compatible: the worker's event loop is its only user.
#ifndef SWIFT_DAEMON_WORKER_SWIFTD_LINK_H_
#define SWIFT_DAEMON_WORKER_SWIFTD_LINK_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "common/unique_fd.h"
#include "proto/worker.pb.h"

namespace swift {

class SwiftdLink final {
 public:
  explicit SwiftdLink(SeqpacketSocket control) : control_(std::move(control)) {}

  int fd() const { return control_.fd(); }

  // Tells swiftd the worker is ready.
  void SendReady(const worker::v1::WorkerReady& ready);
  // Tells swiftd the worker could not start, and why.
  void SendFailed(const absl::Status& status);
  // Answers an invocation from swiftd, with the worker's `stats`.
  void SendReply(worker::v1::InvokeReply reply,
                 const worker::v1::WorkerStats& stats);
  static constexpr absl::Duration kStatsQuiet = absl::Milliseconds(20);
  static constexpr absl::Duration kStatsMaxDelay = absl::Milliseconds(250);

  // NoteActivity(): an invocation arrived or was answered at `now`.
  void NoteActivity(absl::Time now) { last_activity_ = now; }

  // SendStatsIfChanged()
  //
  // Sends `stats` alone when they differ from what swiftd last heard and
  // their time has come (above); otherwise NextStatsSend() says when.
  void SendStatsIfChanged(const worker::v1::WorkerStats& stats, absl::Time now);

  // When stats held back are due (InfiniteFuture: none are).
  absl::Time NextStatsSend() const;

  struct Down {
    // nullopt when the message could not be parsed.
    std::optional<worker::v1::WorkerDown> message;
    // The fds attached (a direct channel's).
    std::vector<UniqueFd> fds;
  };

  // Receive()
  //
  // The next message from swiftd; an error once swiftd closed the socket.
  absl::StatusOr<Down> Receive();

 private:
  void Send(const worker::v1::WorkerUp& up);

  SeqpacketSocket control_;
  // What swiftd last heard.
  worker::v1::WorkerStats reported_;
  absl::Time last_activity_ = absl::InfinitePast();
  // When stats swiftd has not heard first differed (InfiniteFuture: none).
  absl::Time held_since_ = absl::InfiniteFuture();
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_SWIFTD_LINK_H_
