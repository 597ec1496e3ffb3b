// OwnedProcess: the one owner of a child process swiftd spawned (a
// function's worker), which it always reaps.
//
// A child that exits becomes a zombie until its parent waits for it; swiftd
// runs for months and spawns a process for every registration, COLD
// invocation and restore attempt, so every path must reap. Here the owner
// does: its destructor kills the child (and its process group) and waits
// for it, so a process dropped on any path, an error or an early return
// included, leaves nothing behind.
//
// Kill() never signals a recycled pid: the pid stays the child's (a zombie
// at worst) until this owner reaps it, and Kill() checks under the same lock.
// Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_OWNED_PROCESS_H_
#define SWIFT_DAEMON_FUNCTIONS_OWNED_PROCESS_H_

#include <sys/types.h>

#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace swift {

class OwnedProcess final {
 public:
  // Takes over child `pid` (> 0) of this process, which leads a process
  // group of its own (ProcessSpawner puts it in one).
  explicit OwnedProcess(pid_t pid) : pid_(pid) {}
  OwnedProcess(const OwnedProcess&) = delete;
  OwnedProcess& operator=(const OwnedProcess&) = delete;
  // Kill(), then Wait(): the child is gone and reaped when this returns.
  ~OwnedProcess();

  pid_t pid() const { return pid_; }

  // Kill()
  //
  // Sends SIGKILL to the child and to its process group (what it forked),
  // unless it has been reaped already. Does not wait.
  void Kill();

  // Wait()
  //
  // Blocks until the child has exited, reaps it, and returns its wait
  // status (as waitpid() gives it; -1 when the child had been reaped by
  // someone else). Returns the same status again on later calls.
  int Wait();

  // WaitFor()
  //
  // Wait(), for at most `timeout`: the wait status, or nullopt while the
  // child still runs.
  std::optional<int> WaitFor(absl::Duration timeout);

  // Whether Wait() has reaped the child.
  bool reaped() const;

 private:
  // Waits (without reaping, so that the pid stays ours) until the child
  // has exited, or with `block` false only checks; true once it has.
  bool Exited(bool block) ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);
  // Reaps the exited child; returns its status.
  int Reap() ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);

  const pid_t pid_;
  // Held while waiting for the child, so that one thread at a time waits.
  // Never held while mu_ is awaited; taken before mu_.
  absl::Mutex wait_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  bool reaped_ ABSL_GUARDED_BY(mu_) = false;
  int status_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_OWNED_PROCESS_H_
