// RunInChild(): run a function in a fork()ed child that inherits this
// process's verbs objects, and bring its result back.
//
// For tests and benchmarks of fork mode. The child reports through a pipe
// and leaves with _exit(): it never runs destructors, because an inherited
// RAII owner (Qp, Cq, Mr, ...) destroyed in the child would destroy the
// parent's kernel object (both processes hold the same uverbs fd). The
// parent always reaps the child: it waits at most `timeout`, then kills it.
//
// Not thread-safe in the way fork() is not: call it while no other thread
// of this process is inside a verb on an object the child will use.
#ifndef SWIFT_DAEMON_WORKER_FORK_CHILD_PROCESS_H_
#define SWIFT_DAEMON_WORKER_FORK_CHILD_PROCESS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace swift {

// RunInChild()
//
// fork()s; the child runs `body` and sends what it returns (a value or an
// error status) to the parent, then _exit()s. Returns the child's result:
// its value, or its error status with its code and message. Other errors:
// kDeadlineExceeded when the child has not exited within `timeout` (it is
// then killed with SIGKILL and reaped); kInternal when the child died
// without reporting (e.g. a signal, naming it) or fork()/pipe() failed.
// Blocks until the child is gone.
absl::StatusOr<std::string> RunInChild(
    const std::function<absl::StatusOr<std::string>()>& body,
    absl::Duration timeout);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_FORK_CHILD_PROCESS_H_
