// Fork mode preconditions: the checks libswift runs before it lets a process
// forked from a warm worker use the verbs objects it inherited.
//
// Fork mode rests on two facts measured on kernel 6.1 (ARCHITECTURE.md):
//   1. Kernels >= 5.13 copy pinned (registered) pages at fork, so parent and
//      child each keep working memory and libibverbs reports
//      IBV_FORK_UNNEEDED. ibv_fork_init() (or RDMAV_FORK_SAFE) must never be
//      called: its MADV_DONTFORK leaves the child without the MR's pages and
//      the child segfaults on its first touch of them. Nothing here calls it.
//   2. Only MAP_SHARED memory stays one memory across fork. An MR over
//      private memory is, in the child, a snapshot the NIC never sees.
//
// Thread-safe: no shared state. Not for the data path (each check costs a
// system call or a read of /proc/self/maps).
#ifndef SWIFT_DAEMON_WORKER_FORK_FORK_SUPPORT_H_
#define SWIFT_DAEMON_WORKER_FORK_FORK_SUPPORT_H_

#include <infiniband/verbs.h>

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace swift {

// ForkModeStatus()
//
// What fork mode makes of libibverbs' fork status `status` and of
// `fork_safe_variable`, the name of the environment variable that turns on
// libibverbs' fork support (RDMAV_FORK_SAFE or IBV_FORK_SAFE) if one is
// set, else empty. OK only for IBV_FORK_UNNEEDED with no such variable.
// Otherwise kFailedPrecondition: "fork mode needs a kernel that copies
// pinned pages at fork (>= 5.13)..." for IBV_FORK_DISABLED/ENABLED, and for
// a set variable that it makes libibverbs madvise(MADV_DONTFORK) every MR,
// so children crash on MR memory. Pure; CheckCopyOnForkKernel() feeds it.
absl::Status ForkModeStatus(ibv_fork_status status,
                            absl::string_view fork_safe_variable);

// CheckCopyOnForkKernel()
//
// OK iff ibv_is_fork_initialized() == IBV_FORK_UNNEEDED (the kernel copies
// pinned pages at fork) and neither RDMAV_FORK_SAFE nor IBV_FORK_SAFE is
// set; otherwise kFailedPrecondition as ForkModeStatus() describes. Never
// calls ibv_fork_init(). libibverbs reports IBV_FORK_UNNEEDED on such
// kernels even after an explicit ibv_fork_init() call, which therefore
// cannot be detected here: Swift never makes that call, and applications
// in fork mode must not either. May query the kernel once per process
// (libibverbs caches the answer).
absl::Status CheckCopyOnForkKernel();

// CheckSharedMemory()
//
// OK iff every byte of [`addr`, `addr` + `length`) lies in MAP_SHARED
// mappings of the calling process (/proc/self/maps, 's' in the permission
// column). kFailedPrecondition naming the range and the private mapping
// when any part is private (heap, MAP_PRIVATE, private anonymous memory):
// registered before fork, such memory is a snapshot in the child. Also
// kInvalidArgument for a zero length or unmapped bytes, or the status of
// reading /proc/self/maps. libswift calls it in a child for every MR the
// child will use, and refuses the MR on error.
absl::Status CheckSharedMemory(const void* addr, size_t length);

// CheckSharedMemory()
//
// The same for the memory `mr` covers (mr.addr, mr.length); an error also
// names the MR's lkey.
absl::Status CheckSharedMemory(const ibv_mr& mr);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_FORK_FORK_SUPPORT_H_
