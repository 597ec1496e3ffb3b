// InstanceProcesses: the worker's children, as processes.
//
// Each child has a pid, the worker's end of a SOCK_SEQPACKET pair to it,
// and the connection set it drives: the worker never touches that set
// while the child lives. Fork() starts one; Kill() ends one without
// waiting (the loop reaps it when its socket reports the end); Reap() ends
// and waits for one and hands its set back, for the worker to recycle.
// Which child to fork, retire or expire is InstancePool's decision.
//
// The destructor kills and reaps every child before any of their sets is
// closed: a live child could still post on its QPs while they are
// recycled. Thread-compatible: the worker's event loop is its only user.
#ifndef SWIFT_DAEMON_WORKER_INSTANCE_PROCESSES_H_
#define SWIFT_DAEMON_WORKER_INSTANCE_PROCESSES_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/seqpacket_socket.h"
#include "daemon/worker/connection_set_pool.h"

namespace swift {

class InstanceProcesses final {
 public:
  // What a child runs: its end of the socket pair and its set. Must not
  // return (the child _exit()s if it does).
  using Body = std::function<void(SeqpacketSocket, const ConnectionSet&)>;

  InstanceProcesses() = default;
  InstanceProcesses(const InstanceProcesses&) = delete;
  InstanceProcesses& operator=(const InstanceProcesses&) = delete;
  ~InstanceProcesses();

  // Fork()
  //
  // Forks a child that runs `body` with `set`; returns its id (from 1).
  // In the child, every other child's socket and `close_in_child` are
  // closed first, so that whoever talks to a process sees EOF when it
  // dies. `set` is the child's (moved from) on success and left to the
  // caller on failure (kResourceExhausted: fork failed; or the socket
  // pair's error).
  absl::StatusOr<uint64_t> Fork(ConnectionSet& set,
                                const std::vector<int>& close_in_child,
                                const Body& body);

  // Send(): one message to child `id`, `fds` attached (they stay open
  // here). kUnavailable when it is gone.
  absl::Status Send(uint64_t id, absl::string_view message,
                    const std::vector<int>& fds = {});

  // Receive(): the message child `id` sent; an error once it is gone.
  absl::StatusOr<SeqpacketSocket::Message> Receive(uint64_t id);

  // Kill(): SIGKILL, not waited for (Reap() follows).
  void Kill(uint64_t id);

  struct Ended {
    pid_t pid = -1;
    // waitpid()'s status.
    int wait_status = 0;
    // The child's set, the caller's again (to close, off the request path).
    ConnectionSet connections;
  };

  // Reap()
  //
  // Kills child `id` if it still runs, waits for it and forgets it.
  Ended Reap(uint64_t id);

  // The pid of child `id`, or -1.
  pid_t pid(uint64_t id) const;

  // (id, fd) of the worker's end of every child's socket.
  std::vector<std::pair<uint64_t, int>> Fds() const;

  // Children forked so far.
  uint64_t forks() const { return forks_; }

 private:
  struct Child {
    pid_t pid = -1;
    SeqpacketSocket socket;
    ConnectionSet connections;
  };

  // By id: ordered, so that events are served in the order of forks.
  std::map<uint64_t, Child> children_;
  uint64_t next_id_ = 1;
  uint64_t forks_ = 0;
};

// DescribeExit(): waitpid()'s `wait_status` in words ("killed by signal 11
// (Segmentation fault)", "exited with status 3").
std::string DescribeExit(int wait_status);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_INSTANCE_PROCESSES_H_
