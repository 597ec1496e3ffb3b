// CpuSet; see cpu_set.h.
#include "common/cpu_set.h"

#include <cerrno>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errno_status.h"

namespace swift {
namespace {

// One CPU number of a list; kInvalidArgument naming `list` otherwise.
absl::StatusOr<int> ParseCpu(absl::string_view text, absl::string_view list) {
  int cpu = -1;
  text = absl::StripAsciiWhitespace(text);
  // SimpleAtoi takes a sign; a CPU number has none.
  if (text.empty() || !absl::ascii_isdigit(text[0]) ||
      !absl::SimpleAtoi(text, &cpu)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", list, "' is not a CPU list: '", text,
        "' is not a CPU number (write CPUs as in taskset -c: 0-3,8)"));
  }
  if (cpu >= CPU_SETSIZE) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", list, "': CPU ", cpu, " is past the largest, ", CPU_SETSIZE - 1));
  }
  return cpu;
}

}  // namespace

absl::StatusOr<CpuSet> CpuSet::Parse(absl::string_view list) {
  CpuSet cpus;
  if (absl::StripAsciiWhitespace(list).empty()) {
    return absl::InvalidArgumentError(
        "an empty CPU list (write CPUs as in taskset -c: 0-3,8)");
  }
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    const std::vector<absl::string_view> bounds =
        absl::StrSplit(item, absl::MaxSplits('-', 1));
    absl::StatusOr<int> first = ParseCpu(bounds[0], list);
    if (!first.ok()) return first.status();
    absl::StatusOr<int> last =
        bounds.size() == 2 ? ParseCpu(bounds[1], list) : first;
    if (!last.ok()) return last.status();
    if (*last < *first) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", list, "': the range '",
                       absl::StripAsciiWhitespace(item), "' runs backwards"));
    }
    for (int cpu = *first; cpu <= *last; ++cpu) {
      cpus.Add(cpu);
    }
  }
  return cpus;
}

absl::StatusOr<CpuSet> CpuSet::OfThisThread() {
  CpuSet cpus;
  if (sched_getaffinity(0, sizeof(cpus.set_), &cpus.set_) != 0) {
    return ErrnoStatus(errno, "sched_getaffinity");
  }
  return cpus;
}

absl::Status CpuSet::ApplyToThisThread() const {
  if (sched_setaffinity(0, sizeof(set_), &set_) != 0) {
    return ErrnoStatus(errno,
                       absl::StrCat("sched_setaffinity(", ToString(), ")"));
  }
  return absl::OkStatus();
}

void CpuSet::Add(int cpu) {
  if (cpu >= 0 && cpu < CPU_SETSIZE) {
    CPU_SET(cpu, &set_);
  }
}

bool CpuSet::Contains(int cpu) const {
  return cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set_);
}

int CpuSet::Count() const { return CPU_COUNT(&set_); }

int CpuSet::First() const {
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set_)) return cpu;
  }
  return -1;
}

bool CpuSet::IsSubsetOf(const CpuSet& other) const {
  cpu_set_t both;
  CPU_AND(&both, &set_, &other.set_);
  return CPU_EQUAL(&both, &set_);
}

std::string CpuSet::ToString() const {
  std::string text;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set_)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set_)) ++last;
    absl::StrAppend(&text, text.empty() ? "" : ",", cpu);
    if (last > cpu) absl::StrAppend(&text, "-", last);
    cpu = last;
  }
  return text;
}

}  // namespace swift
