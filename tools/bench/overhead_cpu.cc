// Reads process trees' and the machine's CPU time from /proc (see
// overhead_cpu.h).
#include "tools/bench/overhead_cpu.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/errno_status.h"

namespace swift::bench {
namespace {

// What the benchmark needs of one /proc/PID/stat line, in clock ticks.
struct ProcStat {
  pid_t ppid = 0;
  uint64_t own = 0;       // utime + stime
  uint64_t children = 0;  // cutime + cstime (reaped children)
};

double TicksToSeconds(uint64_t ticks) {
  static const long hz = sysconf(_SC_CLK_TCK);
  return static_cast<double>(ticks) / static_cast<double>(hz > 0 ? hz : 100);
}

// Reads a small /proc file whole into `out`; false when it cannot be
// opened (for /proc/PID/stat: the process ended).
bool ReadSmallFile(const std::string& path, std::string* out) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(fopen(path.c_str(), "re"),
                                             &fclose);
  if (file == nullptr) {
    return false;
  }
  char buffer[4096];
  size_t got;
  out->clear();
  while ((got = fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    out->append(buffer, got);
  }
  return true;
}

// Parses a stat line. The command name (field 2) may hold spaces and
// parentheses, so the fields are counted from the LAST ')'.
absl::StatusOr<ProcStat> ParseStat(absl::string_view line) {
  const size_t close = line.rfind(')');
  if (close == absl::string_view::npos) {
    return absl::InternalError(absl::StrCat("no ')' in a stat line: ", line));
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(line.substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state): field N is fields[N - 3].
  constexpr size_t kPpid = 4 - 3, kUtime = 14 - 3, kStime = 15 - 3,
                   kCutime = 16 - 3, kCstime = 17 - 3;
  if (fields.size() <= kCstime) {
    return absl::InternalError(absl::StrCat("short stat line: ", line));
  }
  int64_t ppid = 0, cutime = 0, cstime = 0;
  uint64_t utime = 0, stime = 0;
  if (!absl::SimpleAtoi(fields[kPpid], &ppid) ||
      !absl::SimpleAtoi(fields[kUtime], &utime) ||
      !absl::SimpleAtoi(fields[kStime], &stime) ||
      !absl::SimpleAtoi(fields[kCutime], &cutime) ||
      !absl::SimpleAtoi(fields[kCstime], &cstime)) {
    return absl::InternalError(absl::StrCat("bad numbers in stat: ", line));
  }
  ProcStat stat;
  stat.ppid = static_cast<pid_t>(ppid);
  stat.own = utime + stime;
  // cutime/cstime are signed in proc(5); never negative in practice.
  stat.children = static_cast<uint64_t>(cutime > 0 ? cutime : 0) +
                  static_cast<uint64_t>(cstime > 0 ? cstime : 0);
  return stat;
}

}  // namespace

absl::StatusOr<TreeCpu> ReadTreeCpu(pid_t root) {
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), &closedir);
  if (proc == nullptr) {
    return ErrnoStatus(errno, "opendir(/proc)");
  }
  std::unordered_map<pid_t, ProcStat> stats;
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  std::string line;
  while (const dirent* entry = readdir(proc.get())) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid <= 0) {
      continue;
    }
    if (!ReadSmallFile(absl::StrCat("/proc/", pid, "/stat"), &line)) {
      continue;  // It ended since readdir() listed it.
    }
    absl::StatusOr<ProcStat> stat = ParseStat(line);
    if (!stat.ok()) {
      return stat.status();
    }
    children[stat->ppid].push_back(pid);
    stats[pid] = *stat;
  }
  auto found = stats.find(root);
  if (found == stats.end()) {
    return absl::NotFoundError(
        absl::StrCat("process ", root, " is not running"));
  }
  uint64_t descendants = found->second.children;
  int live = 0;
  std::vector<pid_t> pending = children[root];
  while (!pending.empty()) {
    const pid_t pid = pending.back();
    pending.pop_back();
    const ProcStat& stat = stats[pid];
    descendants += stat.own + stat.children;
    ++live;
    const auto next = children.find(pid);
    if (next != children.end()) {
      pending.insert(pending.end(), next->second.begin(), next->second.end());
    }
  }
  TreeCpu cpu;
  cpu.own_s = TicksToSeconds(found->second.own);
  cpu.descendants_s = TicksToSeconds(descendants);
  cpu.live_descendants = live;
  return cpu;
}

absl::StatusOr<double> ReadProcessCpu(pid_t pid) {
  std::string line;
  const std::string path =
      pid == 0 ? "/proc/self/stat" : absl::StrCat("/proc/", pid, "/stat");
  if (!ReadSmallFile(path, &line)) {
    return absl::NotFoundError(
        absl::StrCat("process ", pid, " is not running"));
  }
  absl::StatusOr<ProcStat> stat = ParseStat(line);
  if (!stat.ok()) {
    return stat.status();
  }
  return TicksToSeconds(stat->own);
}

absl::StatusOr<std::map<std::string, uint64_t>> ReadContextSwitchesByThread(
    pid_t pid) {
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(tasks.c_str()), &closedir);
  if (dir == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("process ", pid, " is not running"));
  }
  std::map<std::string, uint64_t> by_name;
  while (const dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    const std::string task = absl::StrCat(tasks, "/", entry->d_name);
    std::string status, name;
    if (!ReadSmallFile(task + "/status", &status) ||
        !ReadSmallFile(task + "/comm", &name)) {
      continue;  // The thread ended since readdir() listed it.
    }
    uint64_t& switches = by_name[std::string(absl::StripAsciiWhitespace(name))];
    for (absl::string_view line : absl::StrSplit(status, '\n')) {
      // "voluntary_ctxt_switches:" and "nonvoluntary_ctxt_switches:".
      const size_t colon = line.find("ctxt_switches:");
      if (colon == absl::string_view::npos) {
        continue;
      }
      uint64_t count = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(colon + 14)),
                            &count)) {
        return absl::InternalError(
            absl::StrCat("unexpected line in ", task, "/status: ", line));
      }
      switches += count;
    }
  }
  return by_name;
}

absl::StatusOr<SystemCpu> ReadSystemCpu() {
  std::string text;
  if (!ReadSmallFile("/proc/stat", &text)) {
    return ErrnoStatus(errno, "reading /proc/stat");
  }
  const absl::string_view first =
      absl::string_view(text).substr(0, text.find('\n'));
  std::vector<absl::string_view> fields =
      absl::StrSplit(first, ' ', absl::SkipEmpty());
  // cpu user nice system idle iowait irq softirq steal ...
  if (fields.size() < 9 || fields[0] != "cpu") {
    return absl::InternalError(
        absl::StrCat("unexpected first line of /proc/stat: ", first));
  }
  uint64_t value[8];
  for (int i = 0; i < 8; ++i) {
    if (!absl::SimpleAtoi(fields[i + 1], &value[i])) {
      return absl::InternalError(
          absl::StrCat("bad number in /proc/stat: ", first));
    }
  }
  SystemCpu cpu;
  cpu.idle_s = TicksToSeconds(value[3] + value[4]);
  cpu.busy_s = TicksToSeconds(value[0] + value[1] + value[2] + value[5] +
                              value[6] + value[7]);
  return cpu;
}

}  // namespace swift::bench
