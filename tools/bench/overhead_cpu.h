// CPU time of a process and of everything it started, read from /proc, for
// the control-plane overhead benchmark (tools/bench/run overhead).
//
// A process's own time is utime + stime of /proc/PID/stat (all its threads).
// Its descendants' time is, over the live descendants, utime + stime +
// cutime + cstime, plus the process's own cutime + cstime: when a child
// ends and its parent reaps it, the parent's cutime/cstime grow by the
// child's whole time (its own reaped children included), so the sum stays
// continuous and the difference of two readings is what the tree used in
// between, including short-lived children (forked function instances)
// that started and ended in between. Two limits: a child reaped in the
// few microseconds of one scan may be missed or counted twice, and a
// descendant re-parented outside the tree (to init) is lost from then on.
// The clock is the kernel's tick (sysconf(_SC_CLK_TCK), usually 100 Hz):
// readings are exact to 10 ms per process, so windows should be seconds.
#ifndef SWIFT_TOOLS_BENCH_OVERHEAD_CPU_H_
#define SWIFT_TOOLS_BENCH_OVERHEAD_CPU_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace swift::bench {

// One reading of a process tree's CPU time, in seconds.
struct TreeCpu {
  double own_s = 0;          // The process itself.
  double descendants_s = 0;  // Everything it started (see above).
  int live_descendants = 0;  // Descendants alive at the reading.
};

// ReadTreeCpu()
//
// Reads `root`'s CPU time and its descendants' (one scan of /proc).
// kNotFound when `root` is not running; kInternal when /proc cannot be
// read or a stat line does not parse.
absl::StatusOr<TreeCpu> ReadTreeCpu(pid_t root);

// ReadProcessCpu()
//
// `pid`'s own CPU time alone (utime + stime), without scanning /proc: for a
// process without children, e.g. the benchmark's client reading itself
// (pid 0 = the calling process). Same errors as ReadTreeCpu().
absl::StatusOr<double> ReadProcessCpu(pid_t pid);

// ReadContextSwitchesByThread()
//
// How often `pid`'s live threads have left the CPU so far, voluntarily
// (to sleep) or not (preempted, or yielding), from
// /proc/PID/task/*/status, by thread name (/proc/PID/task/TID/comm;
// common/thread_name.h), threads of one name summed: where the switches
// are. On a virtual machine a switch costs tens of microseconds, so this
// explains most of a control plane's CPU, and it is far less noisy than
// CPU time. Threads that ended are not counted. Same errors as
// ReadTreeCpu().
absl::StatusOr<std::map<std::string, uint64_t>> ReadContextSwitchesByThread(
    pid_t pid);

// The whole machine's CPU time in core-seconds, from the "cpu" line of
// /proc/stat: busy (user, nice, system, irq, softirq, steal) and idle
// (idle, iowait).
struct SystemCpu {
  double busy_s = 0;
  double idle_s = 0;
};

// ReadSystemCpu()
//
// kInternal when /proc/stat cannot be read or parsed.
absl::StatusOr<SystemCpu> ReadSystemCpu();

}  // namespace swift::bench

#endif  // SWIFT_TOOLS_BENCH_OVERHEAD_CPU_H_
