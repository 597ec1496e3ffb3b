// The process's dispatchers, one per core, started on first use and kept
// for the life of the process (an idle one sleeps in epoll_wait). A forked
// child starts with none: the parent's threads do not exist there.
#ifndef SWIFT_CLIENT_WAIT_DISPATCHER_TABLE_H_
#define SWIFT_CLIENT_WAIT_DISPATCHER_TABLE_H_

#include "absl/status/statusor.h"
#include "client/wait/dispatcher.h"

namespace swift::wait_internal {

// The dispatcher of core `cpu` (>= 0), started now if it is the first.
absl::StatusOr<Dispatcher*> DispatcherForCpu(int cpu);

// The core the calling thread runs on (sched_getcpu; 0 if unknown).
int CurrentCpu();

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_DISPATCHER_TABLE_H_
