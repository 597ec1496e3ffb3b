// What the fault tests count of a process, from /proc: its children (a
// worker swiftd never reaped stays a zombie child) and its descriptors (a
// channel nobody closed stays one).
#ifndef SWIFT_TESTS_FAULT_PROCESSES_H_
#define SWIFT_TESTS_FAULT_PROCESSES_H_

#include <sys/types.h>

namespace swift::testing {

// Processes whose parent is `pid` (zombies included); -1 without /proc.
int CountChildren(pid_t pid);

// Open descriptors of `pid`; -1 when it is gone.
int CountFds(pid_t pid);

}  // namespace swift::testing

#endif  // SWIFT_TESTS_FAULT_PROCESSES_H_
