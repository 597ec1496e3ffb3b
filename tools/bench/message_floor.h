// MessageFloor: a brokered connect's messages with no work behind them, the
// floor under `tools/bench/run connect_cost`'s CPU per connect.
//
// A brokered connect and its close, both swiftds in one process as in
// connect_cost's loopback, wake swiftd six times at the least: host A's
// fast path for the request, for the peer link's answer and for the close;
// host B's peer link for the request and for the close's notice, and B's
// service channel for the application's answer. The relay this starts is
// a process that does exactly that and nothing else: three threads pinned
// to one CPU, as swiftd's are by default (--cpus=auto), each blocked in a
// recv() until its message comes and then sending it on with one send()
// (Unix SOCK_SEQPACKET to the client and the application, TCP on loopback
// between the two "hosts", as the peer link). Its CPU per connect + close,
// measured like swiftd's, is what the message pattern alone costs on this
// machine: whatever swiftd spends above it is its own work.
#ifndef SWIFT_TOOLS_BENCH_MESSAGE_FLOOR_H_
#define SWIFT_TOOLS_BENCH_MESSAGE_FLOOR_H_

#include <sys/types.h>

#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"

namespace swift::bench {

class MessageFloor final {
 public:
  // Start()
  //
  // Forks the relay. The calling process must have one thread (a fork
  // copies no other, and the relay starts its own): kFailedPrecondition
  // otherwise. Errors of the sockets and of fork() carry their errno.
  static absl::StatusOr<std::unique_ptr<MessageFloor>> Start();

  // Stops the relay (its client and application ends close) and reaps it.
  ~MessageFloor();

  MessageFloor(const MessageFloor&) = delete;
  MessageFloor& operator=(const MessageFloor&) = delete;

  // The relay's pid, for its CPU time and context switches.
  pid_t pid() const { return pid_; }

  // ConnectAndClose()
  //
  // One connect (client -> A -> B -> application -> B -> A -> client) and
  // its close (client -> A -> client, A -> B -> application), from this
  // process, which plays the client and the application. Returns how long
  // the connect took; kUnavailable when the relay is gone.
  absl::StatusOr<absl::Duration> ConnectAndClose();

 private:
  MessageFloor(pid_t pid, SeqpacketSocket client, SeqpacketSocket application);

  // Answers every accept the relay's B sends; closes are only read.
  void AnswerAccepts();

  const pid_t pid_;
  SeqpacketSocket client_;
  SeqpacketSocket application_;
  std::thread application_thread_;
};

}  // namespace swift::bench

#endif  // SWIFT_TOOLS_BENCH_MESSAGE_FLOOR_H_
