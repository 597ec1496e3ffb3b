// CpuSet: a set of CPUs, written as taskset -c and systemd's CPUAffinity=
// write them ("0", "0-3,8"), and a thread's CPU affinity.
//
// swiftd keeps its own threads on few CPUs (--cpus): a brokered connect
// hands its work from thread to thread, and a wake-up that crosses CPUs
// costs an inter-processor interrupt, and far more on a virtual machine,
// than one that stays. The processes it starts (workers, and the functions
// they run) get the CPUs swiftd was started with back.
#ifndef SWIFT_COMMON_CPU_SET_H_
#define SWIFT_COMMON_CPU_SET_H_

#include <sched.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift {

class CpuSet final {
 public:
  // The empty set.
  CpuSet() { CPU_ZERO(&set_); }

  // Parse()
  //
  // "2", "0-3,8", "0,2-3": CPU numbers and inclusive ranges, comma-
  // separated (blanks around them allowed). kInvalidArgument, saying what
  // is wrong, for anything else, an empty list, a range written backwards,
  // or a CPU at or past CPU_SETSIZE.
  static absl::StatusOr<CpuSet> Parse(absl::string_view list);

  // OfThisThread()
  //
  // The CPUs the calling thread may run on (sched_getaffinity).
  static absl::StatusOr<CpuSet> OfThisThread();

  // ApplyToThisThread()
  //
  // Confines the calling thread to this set (sched_setaffinity); the
  // threads it starts later, and the processes it forks, inherit it.
  // kInvalidArgument when none of the CPUs is online and allowed (EINVAL).
  absl::Status ApplyToThisThread() const;

  void Add(int cpu);
  bool Contains(int cpu) const;
  int Count() const;
  bool empty() const { return Count() == 0; }
  // The lowest CPU in the set; -1 when empty.
  int First() const;
  // Whether every CPU of this set is in `other`.
  bool IsSubsetOf(const CpuSet& other) const;

  // The set as Parse() reads it, ranges folded: "0-3,8"; "" when empty.
  std::string ToString() const;

  const cpu_set_t& native() const { return set_; }

  friend bool operator==(const CpuSet& a, const CpuSet& b) {
    return CPU_EQUAL(&a.set_, &b.set_);
  }

 private:
  cpu_set_t set_;
};

}  // namespace swift

#endif  // SWIFT_COMMON_CPU_SET_H_
