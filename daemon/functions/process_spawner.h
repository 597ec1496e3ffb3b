// SpawnProcess(): swiftd's one fork/exec. Starts a program (a function's
// worker) as a tenant, within its limits, in a process group of its own,
// and says exactly what failed when it could not start.
//
// Between fork and exec the child only makes async-signal-safe calls
// (swiftd is multi-threaded): it leaves swiftd's process group, keeps the
// one fd it is given across exec, takes its CPUs, sets its rlimits, switches to
// the tenant (ApplyTenantIdentity()) and execs. A failure of any of these steps
// is written to an exec-report pipe (O_CLOEXEC: a successful exec closes it
// unwritten) with the step and its errno, and SpawnProcess() returns it as
// an error; the child is reaped either way (OwnedProcess).
#ifndef SWIFT_DAEMON_FUNCTIONS_PROCESS_SPAWNER_H_
#define SWIFT_DAEMON_FUNCTIONS_PROCESS_SPAWNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cpu_set.h"
#include "daemon/functions/owned_process.h"
#include "daemon/functions/tenant_identity.h"

namespace swift {

// What to start, as whom and within which limits.
struct SpawnCommand {
  // The program (an absolute path: PATH is not searched) and its
  // arguments: argv[0] is the program.
  std::vector<std::string> argv;
  // How errors name the program ("the worker binary /x/swift_worker");
  // argv[0] when empty.
  std::string name;
  // Who the child runs as; as swiftd itself by default.
  TenantIdentity identity;
  // The child's RLIMIT_AS (its address space), when not 0.
  uint64_t memory_limit_bytes = 0;
  // Raises the child's RLIMIT_MEMLOCK to unlimited (what registering
  // memory with RDMA needs). Best effort: a swiftd without the privilege
  // to raise it leaves it as it is, and the child finds out.
  bool unlimited_memlock = false;
  // A descriptor of this process that the child keeps across exec, at the
  // same number (only the child's copy loses FD_CLOEXEC); -1: none.
  int inherited_fd = -1;
  // The CPUs the child runs on (swiftd's own may be fewer: --cpus); empty:
  // swiftd's. Best effort: a CPU gone offline since does not stop it.
  CpuSet cpus;
  // Appended to the error when exec fails with ENOMEM (e.g. which limit
  // may be too small).
  std::string out_of_memory_hint;
};

// SpawnProcess()
//
// Starts `command`; returns the running child once exec has succeeded.
// The child leads a process group of its own, so that OwnedProcess::Kill()
// also reaches what it forks. Errors, each naming the program:
// kInvalidArgument (no argv), the errno status of pipe2() or fork() (e.g.
// kResourceExhausted), and from the child: kPermissionDenied when it could
// not switch to `identity` (with strerror of the errno), the errno status
// of setrlimit(RLIMIT_AS), and kFailedPrecondition when exec() failed
// (strerror of its errno: "No such file or directory", "Permission
// denied", "Exec format error", ...; `out_of_memory_hint` added for
// ENOMEM). A child that failed is reaped before this returns.
absl::StatusOr<std::unique_ptr<OwnedProcess>> SpawnProcess(
    const SpawnCommand& command);

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_PROCESS_SPAWNER_H_
