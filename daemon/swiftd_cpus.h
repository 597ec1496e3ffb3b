// --cpus: the CPUs swiftd's own threads run on.
//
// Why confine them: a brokered connect hands its work from thread to
// thread (the client's fast-path thread, the peer link's, the service
// channel's), and each hand-off wakes a thread. A wake-up that stays on
// its CPU is a context switch; one that crosses CPUs also costs an
// inter-processor interrupt, on a virtual machine an exit to the
// hypervisor (tools/bench/run connect_cost: about 40% of swiftd's CPU per
// connect on our VMs). The control plane's work is small and bursty, so
// by default it takes one CPU ("auto"), the first it may use, leaving the
// rest to the applications. The processes swiftd starts (function workers,
// and what they fork) run on the CPUs swiftd was started with.
#ifndef SWIFT_DAEMON_SWIFTD_CPUS_H_
#define SWIFT_DAEMON_SWIFTD_CPUS_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/cpu_set.h"

namespace swift {

struct CpusSetting {
  enum class Kind {
    kAll,   // Wherever the scheduler puts them, among the allowed CPUs.
    kAuto,  // One CPU: the first of the allowed ones.
    kList,  // `list`.
  };
  Kind kind = Kind::kAll;
  CpuSet list;
};

// ParseCpusSetting()
//
// "all", "auto", or a CPU list as taskset -c writes it ("0", "0-3,8").
// kInvalidArgument saying what is wrong otherwise.
absl::StatusOr<CpusSetting> ParseCpusSetting(absl::string_view value);

// ChooseSwiftdCpus()
//
// The CPUs swiftd's threads take when it may run on `allowed` (its
// affinity at start: taskset, systemd's CPUAffinity=, a cgroup's cpuset);
// nullopt for kAll (nothing to change). kInvalidArgument, naming both
// lists, when a listed CPU is not in `allowed`.
absl::StatusOr<std::optional<CpuSet>> ChooseSwiftdCpus(
    const CpusSetting& setting, const CpuSet& allowed);

}  // namespace swift

#endif  // SWIFT_DAEMON_SWIFTD_CPUS_H_
