// connect_cost: swiftd's own CPU per brokered connect, on the host (issue
// 15's goal: the control plane spends at most 3% of a core per 1,000
// connects/s), for `tools/bench/run connect_cost`.
//
//   connect_cost --swiftd=PATH [--rate=500] [--window_s=10] [--rounds=3]
//                [--swiftd_flags=--flag=value,...]
//                [--baseline_flags=--cpus=all,...] [--baseline_swiftd=PATH]
//                [--floor=true]
//
// A swiftd brokers with itself on loopback (loopback_swiftd.h): each
// connect crosses the fast path, the broker, the peer link and the service
// channel, both swiftds' work in one process, with fake endpoints (swiftd
// never touches a QP). One client thread offers `rate` connects per second,
// each followed by its close, paced open-loop; swiftd's CPU (utime + stime
// from /proc) over each window, and an idle window in every round. A
// second swiftd, started with --baseline_flags (by default --cpus=all:
// its threads wherever the scheduler puts them), is measured in the same
// rounds, its windows interleaved with the first's in rotating order,
// and the summary gives the ratio of the two. --baseline_swiftd runs
// another build as the baseline (e.g. the tree before a change, with
// --baseline_flags=--cpus=auto: its defaults). The message floor
// (message_floor.h: a relay passing the same messages and doing nothing
// else) is measured in the same rounds too: what any control plane with
// these hops pays on this machine, against which swiftd's own work shows
// (floor_* keys, cpu_ratio_measured_over_floor). Under the guest's QEMU TCG
// the same work costs several times more (tools/bench/run overhead
// measures it there, with the applications' real verbs); this is the
// control plane's cost on a real CPU. Prints one JSON line per window and
// the summary last.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "tests/raw_fast_path.h"
#include "tools/bench/loopback_swiftd.h"
#include "tools/bench/median.h"
#include "tools/bench/message_floor.h"
#include "tools/bench/overhead_cpu.h"

ABSL_FLAG(std::string, swiftd, "", "The swiftd binary.");
ABSL_FLAG(int, rate, 500, "Connects (each with its close) offered per second.");
ABSL_FLAG(int, window_s, 10, "Seconds per measured window.");
ABSL_FLAG(int, rounds, 3, "Rounds of (idle, connecting) windows.");
ABSL_FLAG(std::vector<std::string>, swiftd_flags, {},
          "More flags for swiftd, comma-separated (e.g. --fast_path_spin=0).");
ABSL_FLAG(std::string, baseline_swiftd, "",
          "The baseline's swiftd binary; empty: --swiftd's.");
ABSL_FLAG(bool, floor, true,
          "Also measure the message floor (message_floor.h) in the same "
          "rounds: the CPU of a relay that passes a brokered connect's "
          "messages and does nothing else.");
ABSL_FLAG(std::vector<std::string>, baseline_flags, {"--cpus=all"},
          "A second swiftd with these flags is measured in the same rounds, "
          "its windows interleaved with the first's; empty: none.");

namespace swift::bench {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "connect_cost: %s\n", what.c_str());
  std::exit(1);
}

struct Window {
  double cpu_pct = 0;  // swiftd's CPU over the window, % of one core.
  int connects = 0;
  double per_s = 0;           // Connects done per second.
  double connect_p50_us = 0;  // The client's connect call, as it saw it.
  // swiftd's context switches (all threads) per connect + close, and by
  // thread name.
  double switches_per_connect = 0;
  std::map<std::string, double> switches_by_thread;
};

// {"name": switches per connect, ...}: each thread name's median over
// `windows` (0 in a window without it), those of 0.01 or more.
std::string SwitchesJson(
    const std::vector<std::map<std::string, double>>& windows) {
  std::map<std::string, std::vector<double>> by_name;
  for (const auto& window : windows) {
    for (const auto& [name, count] : window) by_name[name];
  }
  std::vector<std::string> fields;
  for (auto& [name, counts] : by_name) {
    for (const auto& window : windows) {
      auto it = window.find(name);
      counts.push_back(it == window.end() ? 0 : it->second);
    }
    const double median = Median(counts);
    if (median >= 0.01) {
      fields.push_back(absl::StrFormat("\"%s\":%.2f", name, median));
    }
  }
  return absl::StrCat("{", absl::StrJoin(fields, ","), "}");
}

// One connect and its close; returns the connect's time as the client saw
// it.
using ConnectAndClose = std::function<absl::StatusOr<absl::Duration>()>;

// One window: connects at `rate` per second (0: none) for `length`, and
// the CPU time and context switches of `swiftd` (or the message floor).
Window Measure(pid_t swiftd, const ConnectAndClose& connect_and_close, int rate,
               absl::Duration length) {
  Window window;
  std::vector<double> latencies;
  absl::StatusOr<double> before = ReadProcessCpu(swiftd);
  absl::StatusOr<std::map<std::string, uint64_t>> switches_before =
      ReadContextSwitchesByThread(swiftd);
  const absl::Time start = absl::Now();
  const absl::Time end = start + length;
  if (rate == 0) {
    absl::SleepFor(length);
  }
  const absl::Duration interval = absl::Seconds(1) / std::max(rate, 1);
  for (absl::Time next = start; rate > 0 && absl::Now() < end;
       next += interval) {
    absl::SleepFor(next - absl::Now());
    absl::StatusOr<absl::Duration> connect_time = connect_and_close();
    if (!connect_time.ok()) Die(connect_time.status().ToString());
    latencies.push_back(absl::ToDoubleMicroseconds(*connect_time));
    ++window.connects;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::StatusOr<double> after = ReadProcessCpu(swiftd);
  absl::StatusOr<std::map<std::string, uint64_t>> switches_after =
      ReadContextSwitchesByThread(swiftd);
  if (!before.ok() || !after.ok()) Die("cannot read swiftd's CPU time");
  if (!switches_before.ok() || !switches_after.ok()) {
    Die("cannot read swiftd's context switches");
  }
  for (const auto& [name, after_count] : *switches_after) {
    const auto before_count = switches_before->find(name);
    // A thread that started in the window counts from 0.
    const double per_connect =
        static_cast<double>(
            after_count - (before_count == switches_before->end()
                               ? 0
                               : std::min(after_count, before_count->second))) /
        std::max(window.connects, 1);
    window.switches_by_thread[name] = per_connect;
    window.switches_per_connect += per_connect;
  }
  window.cpu_pct = 100 * (*after - *before) / seconds;
  window.per_s = window.connects / seconds;
  window.connect_p50_us = latencies.empty() ? 0 : Median(latencies);
  return window;
}

// One process under measurement (a swiftd, or the message floor), and
// what its rounds gave.
struct Subject {
  std::string name;   // "measured", "baseline" or "floor".
  std::string flags;  // As given, for the summary.
  pid_t pid = 0;
  ConnectAndClose connect_and_close;
  std::unique_ptr<LoopbackSwiftd> loopback;  // A swiftd's.
  std::unique_ptr<SeqpacketSocket> calls;    // A swiftd's.
  std::unique_ptr<MessageFloor> floor;       // The floor's.
  int pooled = 0;
  std::vector<double> busy_pct, per_1000, cpu_us, rates, p50, switches;
  std::vector<std::map<std::string, double>> switches_by_thread;
};

// One brokered connect on `calls` and its close.
absl::StatusOr<absl::Duration> SwiftdConnectAndClose(SeqpacketSocket& calls) {
  const absl::Time begun = absl::Now();
  absl::StatusOr<v1::FastResponse> connected = testing::RawCall(
      calls, testing::RawConnectRequest("measured", absl::Seconds(20)));
  if (!connected.ok()) {
    return absl::Status(
        connected.status().code(),
        absl::StrCat("connect: ", connected.status().message()));
  }
  const absl::Duration connect_time = absl::Now() - begun;
  v1::FastRequest close;
  close.mutable_close()->set_connection_id(
      connected->connect().connection_id());
  if (absl::StatusOr<v1::FastResponse> closed = testing::RawCall(calls, close);
      !closed.ok()) {
    return absl::Status(closed.status().code(),
                        absl::StrCat("close: ", closed.status().message()));
  }
  return connect_time;
}

Subject StartSwiftd(const char* name, const std::string& binary,
                    const std::vector<std::string>& flags, int rate,
                    int per_window) {
  Subject subject;
  subject.name = name;
  subject.flags = absl::StrJoin(flags, " ");
  absl::StatusOr<std::unique_ptr<LoopbackSwiftd>> loopback =
      LoopbackSwiftd::Start(binary, "measured", per_window, flags);
  if (!loopback.ok()) Die(loopback.status().ToString());
  subject.loopback = *std::move(loopback);
  subject.pid = subject.loopback->pid();
  absl::StatusOr<SeqpacketSocket> calls = testing::OpenRaw(
      subject.loopback->fast_path(), "connect_cost", v1::FastHello::CALLS);
  if (!calls.ok()) Die(calls.status().ToString());
  subject.calls = std::make_unique<SeqpacketSocket>(*std::move(calls));
  subject.connect_and_close = [calls = subject.calls.get()] {
    return SwiftdConnectAndClose(*calls);
  };
  // Warm-up: the peer link, the threads and the allocator.
  subject.pooled = per_window - Measure(subject.pid, subject.connect_and_close,
                                        rate, absl::Seconds(1))
                                    .connects;
  return subject;
}

// A connecting window on `subject`, printed and recorded.
void MeasureBusy(Subject& subject, int round, int rate, int window_s,
                 int per_window) {
  if (subject.loopback != nullptr) {
    if (absl::Status added =
            subject.loopback->AddEndpoints(per_window - subject.pooled);
        !added.ok()) {
      Die(absl::StrCat("add endpoints: ", added.ToString()));
    }
    absl::SleepFor(absl::Milliseconds(200));  // swiftd takes them in.
  }
  const Window busy = Measure(subject.pid, subject.connect_and_close, rate,
                              absl::Seconds(window_s));
  subject.pooled = per_window - busy.connects;
  std::printf(
      "{\"kind\":\"window\",\"swiftd\":\"%s\",\"round\":%d,"
      "\"connecting\":true,\"cpu_pct\":%.3f,\"connects\":%d,\"per_s\":%.1f,"
      "\"connect_p50_us\":%.1f,\"switches_per_connect\":%.2f,"
      "\"switches_by_thread\":%s}\n",
      subject.name.c_str(), round, busy.cpu_pct, busy.connects, busy.per_s,
      busy.connect_p50_us, busy.switches_per_connect,
      SwitchesJson({busy.switches_by_thread}).c_str());
  std::fflush(stdout);
  subject.busy_pct.push_back(busy.cpu_pct);
  subject.per_1000.push_back(busy.cpu_pct / (busy.per_s / 1000));
  subject.cpu_us.push_back(busy.cpu_pct / 100 * 1e6 / busy.per_s);
  subject.rates.push_back(busy.per_s);
  subject.p50.push_back(busy.connect_p50_us);
  subject.switches.push_back(busy.switches_per_connect);
  subject.switches_by_thread.push_back(busy.switches_by_thread);
}

// The median of `a`/`b` per round, with its min and max, as JSON fields
// named `prefix`, `prefix`_min and `prefix`_max.
std::string RatioJson(const std::string& prefix, const std::vector<double>& a,
                      const std::vector<double>& b) {
  std::vector<double> ratios;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    ratios.push_back(a[i] / b[i]);
  }
  return absl::StrFormat(
      "\"%s\":%.2f,\"%s_min\":%.2f,\"%s_max\":%.2f,", prefix, Median(ratios),
      prefix, *std::min_element(ratios.begin(), ratios.end()), prefix,
      *std::max_element(ratios.begin(), ratios.end()));
}

int Run() {
  const std::string binary = absl::GetFlag(FLAGS_swiftd);
  const int rate = absl::GetFlag(FLAGS_rate);
  const int window_s = absl::GetFlag(FLAGS_window_s);
  if (binary.empty() || rate < 1 || window_s < 1) {
    Die("give --swiftd, --rate >= 1 and --window_s >= 1");
  }
  // Forked first, while this process has one thread (message_floor.h).
  std::optional<Subject> floor;
  if (absl::GetFlag(FLAGS_floor)) {
    absl::StatusOr<std::unique_ptr<MessageFloor>> started =
        MessageFloor::Start();
    if (!started.ok()) Die(started.status().ToString());
    floor.emplace();
    floor->name = "floor";
    floor->floor = *std::move(started);
    floor->pid = floor->floor->pid();
    floor->connect_and_close = [relay = floor->floor.get()] {
      return relay->ConnectAndClose();
    };
  }
  // Every connect takes one of the service's endpoints: a window's worth
  // (and some) is pooled before each connecting window.
  const int per_window = rate * window_s + 100;
  Subject measured = StartSwiftd(
      "measured", binary, absl::GetFlag(FLAGS_swiftd_flags), rate, per_window);
  const std::vector<std::string> baseline_flags =
      absl::GetFlag(FLAGS_baseline_flags);
  std::optional<Subject> baseline;
  if (!baseline_flags.empty()) {
    const std::string baseline_binary = absl::GetFlag(FLAGS_baseline_swiftd);
    baseline = StartSwiftd("baseline",
                           baseline_binary.empty() ? binary : baseline_binary,
                           baseline_flags, rate, per_window);
  }
  std::vector<Subject*> subjects = {&measured};
  if (baseline.has_value()) subjects.push_back(&*baseline);
  if (floor.has_value()) subjects.push_back(&*floor);
  std::vector<double> idle_pct;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    // The order rotates, so that drift hits all alike.
    for (size_t i = 0; i < subjects.size(); ++i) {
      MeasureBusy(*subjects[(round + i) % subjects.size()], round, rate,
                  window_s, per_window);
    }
    const Window idle = Measure(measured.pid, measured.connect_and_close, 0,
                                absl::Seconds(window_s));
    std::printf(
        "{\"kind\":\"window\",\"swiftd\":\"measured\",\"round\":%d,"
        "\"connecting\":false,\"cpu_pct\":%.3f}\n",
        round, idle.cpu_pct);
    std::fflush(stdout);
    idle_pct.push_back(idle.cpu_pct);
  }
  const double headline = Median(measured.per_1000);
  std::string compared;
  if (baseline.has_value()) {
    compared = absl::StrCat(
        absl::StrFormat("\"baseline_swiftd\":\"%s\",\"baseline_flags\":\"%s\","
                        "\"baseline_cpu_pct_per_1000\":%.2f,"
                        "\"baseline_cpu_us_per_connect\":%.1f,"
                        "\"baseline_connect_p50_us\":%.1f,"
                        "\"baseline_switches_per_connect\":%.2f,",
                        absl::GetFlag(FLAGS_baseline_swiftd), baseline->flags,
                        Median(baseline->per_1000), Median(baseline->cpu_us),
                        Median(baseline->p50), Median(baseline->switches)),
        RatioJson("cpu_ratio_baseline_over_measured", baseline->per_1000,
                  measured.per_1000));
  }
  if (floor.has_value()) {
    const double floor_pct = Median(floor->per_1000);
    absl::StrAppend(
        &compared,
        absl::StrFormat(
            "\"floor_cpu_pct_per_1000\":%.2f,\"floor_cpu_us_per_connect\":%.1f,"
            "\"floor_connect_p50_us\":%.1f,\"floor_switches_per_connect\":%.2f,"
            "\"floor_switches_by_thread\":%s,\"goal_under_floor\":%s,",
            floor_pct, Median(floor->cpu_us), Median(floor->p50),
            Median(floor->switches),
            SwitchesJson(floor->switches_by_thread).c_str(),
            floor_pct > 3.0 ? "true" : "false"),
        RatioJson("cpu_ratio_measured_over_floor", measured.per_1000,
                  floor->per_1000));
  }
  std::printf(
      "{\"bench\":\"connect_cost\",\"where\":\"host\",\"flags\":\"%s\","
      "\"rate_offered\":%d,"
      "\"rate_done_per_s\":%.1f,\"cpu_pct_per_1000_connects_per_s\":%.2f,"
      "\"cpu_pct_per_1000_min\":%.2f,\"cpu_pct_per_1000_max\":%.2f,"
      "\"cpu_us_per_connect\":%.1f,\"swiftd_cpu_pct\":%.2f,"
      "\"swiftd_idle_cpu_pct\":%.3f,\"connect_p50_us\":%.1f,"
      "\"switches_per_connect\":%.2f,\"switches_by_thread\":%s,%s"
      "\"rounds\":%zu,\"goal_pct\":3,\"goal_met\":%s}\n",
      measured.flags.c_str(), rate, Median(measured.rates), headline,
      *std::min_element(measured.per_1000.begin(), measured.per_1000.end()),
      *std::max_element(measured.per_1000.begin(), measured.per_1000.end()),
      Median(measured.cpu_us), Median(measured.busy_pct), Median(idle_pct),
      Median(measured.p50), Median(measured.switches),
      SwitchesJson(measured.switches_by_thread).c_str(), compared.c_str(),
      measured.per_1000.size(), headline <= 3.0 ? "true" : "false");
  return 0;
}

}  // namespace
}  // namespace swift::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return swift::bench::Run();
}
