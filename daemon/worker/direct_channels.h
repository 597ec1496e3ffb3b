// DirectChannels: the clients' direct channels the worker serves.
//
// An invocation through swiftd crosses two local hops and wakes two of
// swiftd's threads. Once swiftd has checked that a client may invoke the
// function, it hands the client's fast path connection to the worker
// (WorkerDown.open_channel, the fd attached) and is out of the path: the
// client sends FastRequest{invoke} and gets one FastResponse for each, in
// order, one invocation at a time per channel (see channel_messages.h for
// the translation, proto/fast_path.proto for the contract). The instance
// that runs an invocation answers it on the channel itself
// (channel_answer.h); the worker answers what no instance took. A channel
// ends when the client closes it; a reply due on a channel closed
// meanwhile is dropped.
//
// Channels are named by ids from 1 (0 is the worker's route to swiftd).
// Thread-compatible: the worker's event loop is its only user.
#ifndef SWIFT_DAEMON_WORKER_DIRECT_CHANNELS_H_
#define SWIFT_DAEMON_WORKER_DIRECT_CHANNELS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "common/unique_fd.h"
#include "proto/worker.pb.h"

namespace swift {

class DirectChannels final {
 public:
  // Open()
  //
  // Serves the client channel `fd` from now on; returns its id.
  uint64_t Open(const worker::v1::OpenChannel& open, UniqueFd fd);

  // (id, fd) of every open channel (the fds a forked child must close).
  std::vector<std::pair<uint64_t, int>> Fds() const;
  // (id, fd) of the channels the worker reads: not those parked.
  std::vector<std::pair<uint64_t, int>> ReadableFds() const;

  // Parking (proto/worker.proto ParkChannel): while a spare holds channel
  // `id`, the worker does not read it; Unpark() when it comes back, Drop()
  // when it came back closed by its client.
  void Park(uint64_t id);
  void Unpark(uint64_t id);
  void Drop(uint64_t id);
  // The channel to park on a free spare: of those not parked whose last
  // request was a FORK, the one that asked last; nullopt when none is.
  std::optional<uint64_t> ChannelToPark() const;

  // The fd of channel `id` (still owned here), or -1 once it closed.
  int fd(uint64_t id) const;

  // Receive()
  //
  // Reads the message waiting on channel `id` and returns the invocation it
  // asks for, in the worker's terms, with answer_on_channel naming the
  // function and the time it was read (`now`). nullopt when there is none
  // to run: the client closed the channel (it is dropped), or the request
  // was malformed or not for a direct channel (answered here with the
  // error).
  std::optional<worker::v1::InvokeRequest> Receive(
      uint64_t id, absl::Time now = absl::Now());

  // Reply()
  //
  // Answers the invocation on channel `id` that `reply` ends (its id is
  // the request's) and counts it; dropped when the channel has closed.
  // A reply with `answered` set was answered by its instance already: it
  // is only counted.
  void Reply(uint64_t id, const worker::v1::InvokeReply& reply);

  // Invocations answered on channels so far, those that failed, and the
  // channels open now.
  uint64_t invocations() const { return invocations_; }
  uint64_t failures() const { return failures_; }
  size_t size() const { return channels_.size(); }

 private:
  struct Channel {
    explicit Channel(SeqpacketSocket socket) : socket(std::move(socket)) {}
    SeqpacketSocket socket;
    std::string client_name;
    int64_t client_pid = 0;
    // The function the invocation in flight named, for its answer.
    std::string function;
    // The last request's mode and when it came.
    worker::v1::InvokeMode last_mode = worker::v1::INVOKE_MODE_UNSPECIFIED;
    absl::Time last_request_at = absl::InfinitePast();
    // A spare holds it (see Park()).
    bool parked = false;
  };

  absl::flat_hash_map<uint64_t, std::unique_ptr<Channel>> channels_;
  uint64_t next_id_ = 1;
  uint64_t invocations_ = 0;
  uint64_t failures_ = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_DIRECT_CHANNELS_H_
