// ProcessCollector; see process_collector.h.
#include "daemon/metrics/process_collector.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "daemon/metrics/family_builder.h"

namespace swift {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return std::nullopt;
  }
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The value of `key` in a "Key:  value unit" file (status, limits-like).
std::optional<double> StatusField(const std::string& text,
                                  absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, key) && absl::ConsumePrefix(&line, ":")) {
      std::vector<absl::string_view> words =
          absl::StrSplit(line, ' ', absl::SkipWhitespace());
      double value = 0;
      if (!words.empty() && absl::SimpleAtod(words[0], &value)) {
        // "kB" in status means KiB.
        return words.size() > 1 && words[1] == "kB" ? value * 1024 : value;
      }
    }
  }
  return std::nullopt;
}

// Entries of the fd directory, without "." and ".."; `own` when it is this
// process's, whose listing holds the listing's own descriptor.
std::optional<double> CountFds(const std::string& dir, bool own) {
  DIR* listing = opendir(dir.c_str());
  if (listing == nullptr) {
    return std::nullopt;
  }
  double count = 0;
  while (const dirent* entry = readdir(listing)) {
    if (entry->d_name[0] != '.') {
      ++count;
    }
  }
  closedir(listing);
  // The listing's own descriptor is not one of swiftd's.
  return own && count > 0 ? count - 1 : count;
}

// The soft "Max open files" of a limits file.
std::optional<double> MaxFds(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "Max open files")) {
      std::vector<absl::string_view> words =
          absl::StrSplit(line, ' ', absl::SkipWhitespace());
      double value = 0;
      if (!words.empty() && absl::SimpleAtod(words[0], &value)) {
        return value;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

ProcessCollector::ProcessCollector(std::string proc_dir)
    : proc_dir_(std::move(proc_dir)) {}

ProcessCollector::Sample ProcessCollector::Read() const {
  Sample sample;
  const bool own = proc_dir_ == "/proc/self" ||
                   proc_dir_ == "/proc/" + std::to_string(getpid());
  sample.open_fds = CountFds(proc_dir_ + "/fd", own);
  if (std::optional<std::string> limits = ReadFile(proc_dir_ + "/limits")) {
    sample.max_fds = MaxFds(*limits);
  }
  if (std::optional<std::string> status = ReadFile(proc_dir_ + "/status")) {
    sample.threads = StatusField(*status, "Threads");
    sample.resident_bytes = StatusField(*status, "VmRSS");
    sample.virtual_bytes = StatusField(*status, "VmSize");
  }
  // stat: "pid (comm) state ppid ..."; comm may hold spaces and
  // parentheses, so fields are counted after the last ')'. utime and
  // stime are fields 14 and 15, starttime 22 (in clock ticks).
  std::optional<std::string> stat = ReadFile(proc_dir_ + "/stat");
  const size_t paren = stat.has_value() ? stat->rfind(')') : std::string::npos;
  if (paren != std::string::npos) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(absl::string_view(*stat).substr(paren + 1), ' ',
                       absl::SkipWhitespace());
    // fields[0] is field 3 (state).
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double utime = 0, stime = 0, start = 0;
    if (fields.size() > 19 && ticks > 0 &&
        absl::SimpleAtod(fields[11], &utime) &&
        absl::SimpleAtod(fields[12], &stime) &&
        absl::SimpleAtod(fields[19], &start)) {
      sample.cpu_seconds = (utime + stime) / ticks;
      // Boot time: "btime <seconds since the epoch>" in the system's stat.
      const std::string root = proc_dir_.substr(0, proc_dir_.rfind('/'));
      if (std::optional<std::string> system = ReadFile(root + "/stat")) {
        for (absl::string_view line : absl::StrSplit(*system, '\n')) {
          double btime = 0;
          if (absl::ConsumePrefix(&line, "btime ") &&
              absl::SimpleAtod(line, &btime)) {
            sample.start_time_seconds = btime + start / ticks;
          }
        }
      }
    }
  }
  return sample;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  const Sample sample = Read();
  std::vector<prometheus::MetricFamily> families;
  auto gauge = [&](const std::optional<double>& value, const char* name,
                   const char* help,
                   prometheus::MetricType type =
                       prometheus::MetricType::Gauge) {
    if (value.has_value()) {
      FamilyBuilder(name, help, type).Add({}, *value).AppendTo(&families);
    }
  };
  gauge(sample.open_fds, "process_open_fds",
        "File descriptors swiftd holds open.");
  gauge(sample.max_fds, "process_max_fds",
        "swiftd's limit on open file descriptors (soft RLIMIT_NOFILE).");
  gauge(sample.threads, "process_threads", "Threads of swiftd.");
  gauge(sample.resident_bytes, "process_resident_memory_bytes",
        "swiftd's resident memory (VmRSS), in bytes.");
  gauge(sample.virtual_bytes, "process_virtual_memory_bytes",
        "swiftd's virtual memory (VmSize), in bytes.");
  gauge(sample.cpu_seconds, "process_cpu_seconds_total",
        "CPU time swiftd has used, user and system, in seconds.",
        prometheus::MetricType::Counter);
  gauge(sample.start_time_seconds, "process_start_time_seconds",
        "When swiftd started, in seconds since the Unix epoch.");
  return families;
}

}  // namespace swift
