// connect_cost: swiftd's own CPU per brokered connect, on the host (issue
// 15's goal: the control plane spends at most 3% of a core per 1,000
// connects/s), for `tools/bench/run connect_cost`.
//
//   connect_cost --swiftd=PATH [--rate=500] [--window_s=10] [--rounds=3]
//                [--swiftd_flags=--flag=value,...]
//
// A swiftd brokers with itself on loopback (loopback_swiftd.h): each
// connect crosses the fast path, the broker, the peer link and the service
// channel, both swiftds' work in one process, with fake endpoints (swiftd
// never touches a QP). One client thread offers `rate` connects per second,
// each followed by its close, paced open-loop; swiftd's CPU (utime + stime
// from /proc) over each window, against an idle window in every round (the
// order alternating). Under the guest's QEMU TCG the same work costs several
// times more (tools/bench/run overhead measures it there, with the
// applications' real verbs); this is the control plane's cost on a real
// CPU. Prints one JSON line per window and the summary last.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "tests/raw_fast_path.h"
#include "tools/bench/loopback_swiftd.h"
#include "tools/bench/median.h"
#include "tools/bench/overhead_cpu.h"

ABSL_FLAG(std::string, swiftd, "", "The swiftd binary.");
ABSL_FLAG(int, rate, 500, "Connects (each with its close) offered per second.");
ABSL_FLAG(int, window_s, 10, "Seconds per measured window.");
ABSL_FLAG(int, rounds, 3, "Rounds of (idle, connecting) windows.");
ABSL_FLAG(std::vector<std::string>, swiftd_flags, {},
          "More flags for swiftd, comma-separated (e.g. --fast_path_spin=0).");

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
};

// One window: connects at `rate` per second (0: none) for `length`.
Window Measure(pid_t swiftd, SeqpacketSocket& calls, int rate,
               absl::Duration length) {
  Window window;
  std::vector<double> latencies;
  absl::StatusOr<double> before = ReadProcessCpu(swiftd);
  const absl::Time start = absl::Now();
  const absl::Time end = start + length;
  if (rate == 0) {
    absl::SleepFor(length);
  }
  const absl::Duration interval = absl::Seconds(1) / std::max(rate, 1);
  for (absl::Time next = start; rate > 0 && absl::Now() < end;
       next += interval) {
    absl::SleepFor(next - absl::Now());
    const absl::Time begun = absl::Now();
    absl::StatusOr<v1::FastResponse> connected = testing::RawCall(
        calls, testing::RawConnectRequest("measured", absl::Seconds(20)));
    if (!connected.ok()) {
      Die(absl::StrCat("connect: ", connected.status().ToString()));
    }
    latencies.push_back(absl::ToDoubleMicroseconds(absl::Now() - begun));
    v1::FastRequest close;
    close.mutable_close()->set_connection_id(
        connected->connect().connection_id());
    if (absl::StatusOr<v1::FastResponse> closed =
            testing::RawCall(calls, close);
        !closed.ok()) {
      Die(absl::StrCat("close: ", closed.status().ToString()));
    }
    ++window.connects;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::StatusOr<double> after = ReadProcessCpu(swiftd);
  if (!before.ok() || !after.ok()) Die("cannot read swiftd's CPU time");
  window.cpu_pct = 100 * (*after - *before) / seconds;
  window.per_s = window.connects / seconds;
  window.connect_p50_us = latencies.empty() ? 0 : Median(latencies);
  return window;
}

int Run() {
  const std::string binary = absl::GetFlag(FLAGS_swiftd);
  const int rate = absl::GetFlag(FLAGS_rate);
  const int window_s = absl::GetFlag(FLAGS_window_s);
  if (binary.empty() || rate < 1 || window_s < 1) {
    Die("give --swiftd, --rate >= 1 and --window_s >= 1");
  }
  // Every connect takes one of the service's endpoints: a window's worth
  // (and some) is pooled before each connecting window.
  const int per_window = rate * window_s + 100;
  absl::StatusOr<std::unique_ptr<LoopbackSwiftd>> loopback =
      LoopbackSwiftd::Start(binary, "measured", per_window,
                            absl::GetFlag(FLAGS_swiftd_flags));
  if (!loopback.ok()) Die(loopback.status().ToString());
  const pid_t swiftd = (*loopback)->pid();
  absl::StatusOr<SeqpacketSocket> calls = testing::OpenRaw(
      (*loopback)->fast_path(), "connect_cost", v1::FastHello::CALLS);
  if (!calls.ok()) Die(calls.status().ToString());
  // Warm-up: the peer link, the threads and the allocator.
  int pooled =
      per_window - Measure(swiftd, *calls, rate, absl::Seconds(1)).connects;
  std::vector<double> busy_pct, idle_pct, per_1000, cpu_us, rates, p50;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    if (absl::Status added = (*loopback)->AddEndpoints(per_window - pooled);
        !added.ok()) {
      Die(absl::StrCat("add endpoints: ", added.ToString()));
    }
    pooled = per_window;
    absl::SleepFor(absl::Milliseconds(200));  // swiftd takes them in.
    Window idle, busy;
    for (int turn = 0; turn < 2; ++turn) {
      const bool connecting = (turn == 0) == (round % 2 == 0);
      Window window = Measure(swiftd, *calls, connecting ? rate : 0,
                              absl::Seconds(window_s));
      std::printf(
          "{\"kind\":\"window\",\"round\":%d,\"connecting\":%s,"
          "\"cpu_pct\":%.3f,\"connects\":%d,\"per_s\":%.1f,"
          "\"connect_p50_us\":%.1f}\n",
          round, connecting ? "true" : "false", window.cpu_pct, window.connects,
          window.per_s, window.connect_p50_us);
      std::fflush(stdout);
      (connecting ? busy : idle) = window;
    }
    pooled -= busy.connects;
    busy_pct.push_back(busy.cpu_pct);
    idle_pct.push_back(idle.cpu_pct);
    per_1000.push_back(busy.cpu_pct / (busy.per_s / 1000));
    cpu_us.push_back(busy.cpu_pct / 100 * 1e6 / busy.per_s);
    rates.push_back(busy.per_s);
    p50.push_back(busy.connect_p50_us);
  }
  const double headline = Median(per_1000);
  std::printf(
      "{\"bench\":\"connect_cost\",\"where\":\"host\",\"rate_offered\":%d,"
      "\"rate_done_per_s\":%.1f,\"cpu_pct_per_1000_connects_per_s\":%.2f,"
      "\"cpu_pct_per_1000_min\":%.2f,\"cpu_pct_per_1000_max\":%.2f,"
      "\"cpu_us_per_connect\":%.1f,\"swiftd_cpu_pct\":%.2f,"
      "\"swiftd_idle_cpu_pct\":%.3f,\"connect_p50_us\":%.1f,"
      "\"rounds\":%zu,\"goal_pct\":3,\"goal_met\":%s}\n",
      rate, Median(rates), headline,
      *std::min_element(per_1000.begin(), per_1000.end()),
      *std::max_element(per_1000.begin(), per_1000.end()), Median(cpu_us),
      Median(busy_pct), Median(idle_pct), Median(p50), per_1000.size(),
      headline <= 3.0 ? "true" : "false");
  return 0;
}

}  // namespace
}  // namespace swift::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return swift::bench::Run();
}
