// wait_modes: one round of the FastWake wait-mode benchmark (tools/bench/run
// wait_modes runs it once per round through wait_modes.sh in the two-host
// Soft-RoCE guest, with perftest's ib_send_lat between rounds).
//
//   wait_modes --device_a=rxeA --device_b=rxeB --round=0
//       [--threads=1,2,4,16,64,256] [--modes=busy_poll,event,hybrid,dispatcher]
//       [--warmup_s=0.5] [--window_s=2] [--ack1_threads=16]
//       [--idle_waiters=64] [--idle_modes=dispatcher,hybrid,event]
//
// Points: for each N of --threads and each variant (every mode of --modes;
// at N = --ack1_threads also "event_ack1", event mode with
// WaitOptions::ack_batch = 1 against the default 16), N RC pairs
// (wait_pairs.h) and 2N threads (wait_pingpong.h): N clients on device B
// each ping-pong with their server on device A, and every thread, client
// and server, waits with a CqWaiter in the variant's mode. The variants'
// order rotates with the round and N, and N ascends in even rounds and
// descends in odd ones, so that drift over the run hits every variant alike.
// Each point runs --warmup_s, then a measured window of --window_s, then
// stops: every Wait() is bounded (--wait_timeout_ms), so a collapse (256
// busy pollers on 2 vCPUs) cannot hang the run, and a point whose threads do
// not end within --drain_timeout_s ends the program (exit 3).
//
// Both sides live in this one process on purpose: the guest's two "hosts"
// share its 2 vCPUs, and FastWake runs one dispatcher per core; two
// processes would run two dispatchers per core.
//
// Measured per point, over the window: round trips ending in it (latency =
// half the round trip, perftest's convention; p50/p99/mean over every round
// trip of every pair), round trips and messages (2 per round trip) per
// second, Jain's fairness index of the pairs' round trips, and CPU: this
// process's (CLOCK_PROCESS_CPUTIME_ID; getrusage user and system; utime +
// stime of /proc/self/stat), its application threads' (their CPU clocks,
// which include rxe's transport, run in their post syscalls; the rest is
// libswift's dispatchers and this thread), and the machine's busy time
// (/proc/stat, which also holds softirq work done outside the process).
// This thread reads the clocks at the window's edges and sleeps otherwise;
// it runs SCHED_FIFO during the window when allowed, so that hundreds of
// spinning threads cannot delay those readings. Each waiter's WaitStats
// (the whole run) are summed per point.
// Idle: for each --idle_modes mode, --idle_waiters threads wait on their
// own CQs with no traffic; after --idle_settle_s (the dispatcher's
// back-off), this process's CPU over --idle_window_s, as % of one core.
//
// Output: one JSON line per point ("kind":"point") and per idle run
// ("kind":"idle") on stdout; progress on stderr. Exit code 0 when every
// point ran without error, 1 when some thread failed (its line says
// which), 2 for bad flags or set-up, 3 when a point's threads did not end.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "swift/wait.h"
#include "tools/bench/overhead_cpu.h"
#include "tools/bench/wait_pairs.h"
#include "tools/bench/wait_pingpong.h"

ABSL_FLAG(std::string, device_a, "rxeA", "Device of the servers (side A).");
ABSL_FLAG(int, gid_index_a, -1, "GID index on device_a; -1: its RoCE v2 one.");
ABSL_FLAG(std::string, device_b, "rxeB", "Device of the clients (side B).");
ABSL_FLAG(int, gid_index_b, -1, "GID index on device_b; -1: its RoCE v2 one.");
ABSL_FLAG(int, round, 0, "This round's number (rotates the order).");
ABSL_FLAG(std::vector<std::string>, threads,
          (std::vector<std::string>{"1", "2", "4", "16", "64", "256"}),
          "Ping-pong pairs (client threads) per point.");
ABSL_FLAG(std::vector<std::string>, modes,
          (std::vector<std::string>{"busy_poll", "event", "hybrid",
                                    "dispatcher"}),
          "Wait modes.");
ABSL_FLAG(int, ack1_threads, 16,
          "N at which event mode also runs with ack_batch=1; 0: never.");
ABSL_FLAG(double, warmup_s, 0.5, "Seconds of traffic before the window.");
ABSL_FLAG(double, window_s, 2, "The measured window, seconds.");
ABSL_FLAG(int, wait_timeout_ms, 250,
          "Timeout of each Wait() call: how soon a thread sees the end.");
ABSL_FLAG(double, drain_timeout_s, 60,
          "Longest wait for a point's threads to end after the window.");
ABSL_FLAG(bool, orchestrator_fifo, true,
          "Run the measuring thread SCHED_FIFO during each window.");
ABSL_FLAG(int, idle_waiters, 64, "Waiters of an idle run; 0: no idle runs.");
ABSL_FLAG(std::vector<std::string>, idle_modes,
          (std::vector<std::string>{"dispatcher", "hybrid", "event"}),
          "Modes measured idle.");
ABSL_FLAG(double, idle_settle_s, 1, "Idle: seconds before the window.");
ABSL_FLAG(double, idle_window_s, 3, "Idle: the measured window, seconds.");

namespace swift::bench {
namespace {

using Clock = std::chrono::steady_clock;

void Log(const std::string& line) {
  std::cerr << "[wait_modes] " << line << std::endl;
}

// A flat JSON object built key by key.
class JsonLine {
 public:
  JsonLine& Add(const std::string& key, double value) {
    return Raw(key, std::isfinite(value) ? absl::StrFormat("%.4g", value)
                                         : std::string("null"));
  }
  JsonLine& Add(const std::string& key, std::optional<double> value) {
    return value.has_value() ? Add(key, *value) : Raw(key, "null");
  }
  JsonLine& Add(const std::string& key, int64_t value) {
    return Raw(key, absl::StrCat(value));
  }
  JsonLine& Add(const std::string& key, int value) {
    return Raw(key, absl::StrCat(value));
  }
  JsonLine& Add(const std::string& key, uint64_t value) {
    return Raw(key, absl::StrCat(value));
  }
  JsonLine& Add(const std::string& key, bool value) {
    return Raw(key, value ? "true" : "false");
  }
  JsonLine& Add(const std::string& key, const std::string& value) {
    return Raw(key, Quote(value));
  }
  JsonLine& Add(const std::string& key, const char* value) {
    return Add(key, std::string(value));
  }
  JsonLine& Add(const std::string& key, const JsonLine& object) {
    return Raw(key, object.str());
  }
  std::string str() const { return absl::StrCat("{", body_, "}"); }

 private:
  JsonLine& Raw(const std::string& key, const std::string& value) {
    absl::StrAppend(&body_, body_.empty() ? "" : ",", Quote(key), ":", value);
    return *this;
  }
  static std::string Quote(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        absl::StrAppendFormat(&out, "\\u%04x", c);
      } else {
        out += c;
      }
    }
    return out + "\"";
  }
  std::string body_;
};

double ClockSeconds(clockid_t clock) {
  timespec ts = {};
  if (clock_gettime(clock, &ts) != 0) {
    return NAN;
  }
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double TimevalSeconds(const timeval& tv) {
  return tv.tv_sec + tv.tv_usec * 1e-6;
}

// One reading of every CPU clock the benchmark reports.
struct CpuReading {
  Clock::time_point at;
  double process_s = 0;  // CLOCK_PROCESS_CPUTIME_ID.
  double user_s = 0;     // getrusage(RUSAGE_SELF).
  double system_s = 0;
  double proc_stat_s = NAN;  // /proc/self/stat utime + stime.
  double app_threads_s = 0;  // The application threads' CPU clocks.
  SystemCpu machine;         // /proc/stat.
  bool machine_ok = false;
};

CpuReading ReadCpu(const std::vector<clockid_t>& app_clocks) {
  CpuReading reading;
  reading.at = Clock::now();
  reading.process_s = ClockSeconds(CLOCK_PROCESS_CPUTIME_ID);
  rusage usage = {};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    reading.user_s = TimevalSeconds(usage.ru_utime);
    reading.system_s = TimevalSeconds(usage.ru_stime);
  }
  if (absl::StatusOr<double> own = ReadProcessCpu(0); own.ok()) {
    reading.proc_stat_s = *own;
  }
  for (clockid_t clock : app_clocks) {
    reading.app_threads_s += ClockSeconds(clock);
  }
  if (absl::StatusOr<SystemCpu> machine = ReadSystemCpu(); machine.ok()) {
    reading.machine = *machine;
    reading.machine_ok = true;
  }
  return reading;
}

// The CPU used between two readings, in cores (CPU seconds per second).
JsonLine CpuBetween(const CpuReading& a, const CpuReading& b) {
  const double wall = std::chrono::duration<double>(b.at - a.at).count();
  const double process = b.process_s - a.process_s;
  const double app = b.app_threads_s - a.app_threads_s;
  JsonLine cpu;
  cpu.Add("process_cores", process / wall)
      .Add("getrusage_user_cores", (b.user_s - a.user_s) / wall)
      .Add("getrusage_sys_cores", (b.system_s - a.system_s) / wall)
      .Add("proc_stat_cores", (b.proc_stat_s - a.proc_stat_s) / wall)
      .Add("app_threads_cores", app / wall)
      .Add("other_threads_cores", (process - app) / wall);
  if (a.machine_ok && b.machine_ok) {
    cpu.Add("machine_busy_cores", (b.machine.busy_s - a.machine.busy_s) / wall);
  }
  return cpu;
}

// Nearest-rank percentile of sorted `values`; nullopt when empty.
std::optional<double> Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) {
    return std::nullopt;
  }
  const size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

JsonLine StatsJson(const std::vector<ThreadRecord>& records) {
  WaitStats sum;
  for (const ThreadRecord& r : records) {
    sum.waits += r.stats.waits;
    sum.completions += r.stats.completions;
    sum.sleeps += r.stats.sleeps;
    sum.events += r.stats.events;
    sum.ack_calls += r.stats.ack_calls;
    sum.spin_hits += r.stats.spin_hits;
    sum.migrations += r.stats.migrations;
  }
  JsonLine stats;
  stats.Add("waits", sum.waits)
      .Add("completions", sum.completions)
      .Add("sleeps", sum.sleeps)
      .Add("events", sum.events)
      .Add("ack_calls", sum.ack_calls)
      .Add("spin_hits", sum.spin_hits)
      .Add("migrations", sum.migrations);
  return stats;
}

// Runs this thread SCHED_FIFO (priority 1) or back to SCHED_OTHER; whether
// it worked (it needs CAP_SYS_NICE; the guest runs as root).
bool SetRealtime(bool on) {
  sched_param param = {};
  param.sched_priority = on ? 1 : 0;
  return pthread_setschedparam(pthread_self(), on ? SCHED_FIFO : SCHED_OTHER,
                               &param) == 0;
}

void SleepSeconds(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// The threads of one run; joined (or the program ended) by Finish().
class ThreadSet {
 public:
  explicit ThreadSet(int threads) : shared_(threads), records_(threads) {}

  PingPongShared& shared() { return shared_; }
  std::vector<ThreadRecord>& records() { return records_; }

  void Start(Role role, WaitSide& side, const WaitOptions& options) {
    const size_t i = threads_.size();
    threads_.emplace_back(RunWaitThread, role, std::ref(side), options,
                          std::ref(shared_), std::ref(records_[i]));
    clockid_t clock;
    if (pthread_getcpuclockid(threads_.back().native_handle(), &clock) == 0) {
      clocks_.push_back(clock);
    }
  }

  const std::vector<clockid_t>& clocks() const { return clocks_; }

  // Sets kExit and joins every thread; when they do not all end within
  // `timeout`, prints `hung_line` and ends the program (exit 3): a thread
  // stuck in Wait() past its timeout is a bug worth stopping for.
  double Finish(absl::Duration timeout, const std::string& hung_line) {
    const Clock::time_point begin = Clock::now();
    shared_.phase.store(kExit, std::memory_order_release);
    const absl::Time deadline = absl::Now() + timeout;
    while (shared_.exited.load() < static_cast<int>(threads_.size())) {
      if (absl::Now() > deadline) {
        std::cout << hung_line << std::endl;
        Log(absl::StrCat(threads_.size() - shared_.exited.load(), " of ",
                         threads_.size(), " threads did not end within ",
                         absl::FormatDuration(timeout), "; stopping"));
        std::_Exit(3);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (std::thread& t : threads_) {
      t.join();
    }
    return std::chrono::duration<double>(Clock::now() - begin).count();
  }

 private:
  PingPongShared shared_;
  std::vector<ThreadRecord> records_;
  std::vector<std::thread> threads_;
  std::vector<clockid_t> clocks_;
};

// The first error among `records` and how many threads failed.
std::pair<int, std::string> Errors(const std::vector<ThreadRecord>& records) {
  int failed = 0;
  std::string first;
  for (const ThreadRecord& r : records) {
    if (!r.error.empty()) {
      ++failed;
      if (first.empty()) {
        first = r.error;
      }
    }
  }
  return {failed, first};
}

struct Variant {
  std::string name;  // The mode's name, or "event_ack1".
  WaitMode mode;
  int ack_batch;
};

// One point: N pairs, 2N threads in `variant`. Prints its line; false when
// a thread failed or the set-up did.
bool RunPoint(const WaitDevice& a, const WaitDevice& b, int round, int n,
              const Variant& variant) {
  JsonLine line;
  line.Add("kind", "point")
      .Add("round", round)
      .Add("variant", variant.name)
      .Add("mode", std::string(WaitModeName(variant.mode)))
      .Add("threads", n)
      .Add("ack_batch", variant.ack_batch);
  const Clock::time_point setup_begin = Clock::now();
  absl::StatusOr<std::unique_ptr<WaitPairs>> pairs = WaitPairs::Create(a, b, n);
  if (!pairs.ok()) {
    line.Add("errors", 1).Add("first_error", pairs.status().ToString());
    std::cout << line.str() << std::endl;
    return false;
  }
  WaitOptions options;
  options.mode = variant.mode;
  options.ack_batch = variant.ack_batch;
  ThreadSet set(2 * n);
  set.shared().wait_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_wait_timeout_ms));
  for (int i = 0; i < n; ++i) {
    set.Start(Role::kServer, (*pairs)->a(i), options);
    set.Start(Role::kClient, (*pairs)->b(i), options);
  }
  set.shared().ready.Wait();
  const double setup_s =
      std::chrono::duration<double>(Clock::now() - setup_begin).count();

  const bool realtime =
      absl::GetFlag(FLAGS_orchestrator_fifo) && SetRealtime(true);
  set.shared().start.Notify();
  SleepSeconds(absl::GetFlag(FLAGS_warmup_s));
  const CpuReading before = ReadCpu(set.clocks());
  set.shared().phase.store(kMeasure, std::memory_order_release);
  SleepSeconds(absl::GetFlag(FLAGS_window_s));
  set.shared().phase.store(kCooldown, std::memory_order_release);
  const CpuReading after = ReadCpu(set.clocks());
  if (realtime) {
    SetRealtime(false);
  }
  const double window_s =
      std::chrono::duration<double>(after.at - before.at).count();

  line.Add("setup_s", setup_s).Add("window_s", window_s);
  JsonLine hung = line;
  hung.Add("hung", true);
  const double drain_s = set.Finish(
      absl::Seconds(absl::GetFlag(FLAGS_drain_timeout_s)), hung.str());
  const Clock::time_point teardown_begin = Clock::now();
  pairs->reset();
  const double teardown_s =
      std::chrono::duration<double>(Clock::now() - teardown_begin).count();

  std::vector<double> one_way_us;
  uint64_t measured = 0;
  uint64_t total = 0;
  uint64_t timeouts = 0;
  int pairs_served = 0;
  // Per pair round trips, for Jain's fairness index (1: every pair got
  // the same share; 1/N: one pair got everything).
  double share_sum = 0;
  double share_squares = 0;
  for (int i = 0; i < 2 * n; ++i) {
    const ThreadRecord& r = set.records()[i];
    timeouts += r.timeouts;
    if (i % 2 == 0) {
      continue;  // Servers: their pongs are the clients' round trips.
    }
    measured += r.measured;
    total += r.total;
    pairs_served += r.measured > 0 ? 1 : 0;
    share_sum += r.measured;
    share_squares += static_cast<double>(r.measured) * r.measured;
    for (double rtt : r.rtt_us) {
      one_way_us.push_back(rtt / 2);
    }
  }
  std::sort(one_way_us.begin(), one_way_us.end());
  std::optional<double> mean_us;
  if (!one_way_us.empty()) {
    double sum = 0;
    for (double us : one_way_us) {
      sum += us;
    }
    mean_us = sum / one_way_us.size();
  }
  const auto [failed, first_error] = Errors(set.records());
  const double process_s = after.process_s - before.process_s;
  line.Add("round_trips", measured)
      .Add("rt_per_s", measured / window_s)
      .Add("msgs_per_s", 2 * measured / window_s)
      .Add("p50_us", Percentile(one_way_us, 0.50))
      .Add("p99_us", Percentile(one_way_us, 0.99))
      .Add("mean_us", mean_us)
      .Add("pairs_served", pairs_served)
      .Add("fairness", share_squares > 0
                           ? std::optional<double>(share_sum * share_sum /
                                                   (n * share_squares))
                           : std::nullopt)
      .Add("cpu", CpuBetween(before, after))
      .Add("cpu_us_per_rt",
           measured > 0 ? std::optional<double>(process_s * 1e6 / measured)
                        : std::nullopt)
      .Add("round_trips_whole_run", total)
      .Add("wait_timeouts", timeouts)
      .Add("stats", StatsJson(set.records()))
      .Add("orchestrator_fifo", realtime)
      .Add("drain_s", drain_s)
      .Add("teardown_s", teardown_s)
      .Add("errors", failed)
      .Add("first_error", first_error);
  std::cout << line.str() << std::endl;
  Log(absl::StrFormat(
      "round %d N=%d %-10s p50 %s us, %.0f rt/s, %.2f cores%s", round, n,
      variant.name,
      one_way_us.empty()
          ? std::string("-")
          : absl::StrFormat("%.1f", *Percentile(one_way_us, 0.5)),
      measured / window_s, process_s / window_s,
      failed > 0 ? absl::StrCat(", ", failed, " FAILED: ", first_error) : ""));
  return failed == 0;
}

// An idle run: `waiters` threads waiting on side A's CQs with no traffic.
bool RunIdle(const WaitDevice& a, const WaitDevice& b, int round, WaitMode mode,
             int waiters) {
  JsonLine line;
  line.Add("kind", "idle")
      .Add("round", round)
      .Add("mode", std::string(WaitModeName(mode)))
      .Add("waiters", waiters);
  absl::StatusOr<std::unique_ptr<WaitPairs>> pairs =
      WaitPairs::Create(a, b, waiters);
  if (!pairs.ok()) {
    line.Add("errors", 1).Add("first_error", pairs.status().ToString());
    std::cout << line.str() << std::endl;
    return false;
  }
  const double settle_s = absl::GetFlag(FLAGS_idle_settle_s);
  const double window_s = absl::GetFlag(FLAGS_idle_window_s);
  WaitOptions options;
  options.mode = mode;
  ThreadSet set(waiters);
  // Long enough that no timeout wakes a waiter during the run; the release
  // message ends each wait.
  set.shared().wait_timeout = absl::Seconds(settle_s + window_s + 10);
  for (int i = 0; i < waiters; ++i) {
    set.Start(Role::kIdle, (*pairs)->a(i), options);
  }
  set.shared().ready.Wait();
  set.shared().start.Notify();
  SleepSeconds(settle_s);
  const CpuReading before = ReadCpu(set.clocks());
  SleepSeconds(window_s);
  const CpuReading after = ReadCpu(set.clocks());
  const double wall =
      std::chrono::duration<double>(after.at - before.at).count();
  // The release: one message to each waiter, sent after kExit is set.
  set.shared().phase.store(kExit, std::memory_order_release);
  int release_failures = 0;
  std::string release_error;
  for (int i = 0; i < waiters; ++i) {
    ibv_sge sge = {};
    uint64_t value = 0;
    sge.addr = reinterpret_cast<uintptr_t>(&value);
    sge.length = sizeof(value);
    ibv_send_wr wr = {};
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.opcode = IBV_WR_SEND;
    wr.send_flags = IBV_SEND_INLINE;
    if (absl::Status s = (*pairs)->b(i).qp->PostSendChain(wr); !s.ok()) {
      ++release_failures;
      release_error = s.ToString();
    }
  }
  JsonLine hung = line;
  hung.Add("hung", true);
  set.Finish(absl::Seconds(absl::GetFlag(FLAGS_drain_timeout_s)), hung.str());
  pairs->reset();

  uint64_t released = 0;
  for (const ThreadRecord& r : set.records()) {
    released += r.total;
  }
  auto [failed, first_error] = Errors(set.records());
  if (release_failures > 0) {
    failed += release_failures;
    first_error = first_error.empty() ? release_error : first_error;
  }
  const double pct = 100 * (after.process_s - before.process_s) / wall;
  line.Add("settle_s", settle_s)
      .Add("window_s", wall)
      .Add("cpu_pct", pct)
      .Add("getrusage_pct", 100 *
                                (after.user_s + after.system_s - before.user_s -
                                 before.system_s) /
                                wall)
      .Add("proc_stat_pct",
           100 * (after.proc_stat_s - before.proc_stat_s) / wall)
      .Add("app_threads_pct",
           100 * (after.app_threads_s - before.app_threads_s) / wall)
      .Add("cpu", CpuBetween(before, after))
      .Add("released", released)
      .Add("stats", StatsJson(set.records()))
      .Add("errors", failed)
      .Add("first_error", first_error);
  std::cout << line.str() << std::endl;
  Log(absl::StrFormat(
      "round %d idle %-10s %d waiters: %.2f%% of a core%s", round,
      std::string(WaitModeName(mode)), waiters, pct,
      failed > 0 ? absl::StrCat(", FAILED: ", first_error) : ""));
  return failed == 0 && released == static_cast<uint64_t>(waiters);
}

absl::StatusOr<std::vector<WaitMode>> ParseModes(
    const std::vector<std::string>& names, const char* flag) {
  std::vector<WaitMode> modes;
  for (const std::string& name : names) {
    absl::StatusOr<WaitMode> mode = ParseWaitMode(name);
    if (!mode.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": ", mode.status().message()));
    }
    modes.push_back(*mode);
  }
  return modes;
}

std::optional<uint32_t> GidIndex(int flag) {
  return flag < 0 ? std::nullopt
                  : std::optional<uint32_t>(static_cast<uint32_t>(flag));
}

int Run() {
  const int round = absl::GetFlag(FLAGS_round);
  std::vector<int> counts;
  for (const std::string& text : absl::GetFlag(FLAGS_threads)) {
    int n = 0;
    if (!absl::SimpleAtoi(text, &n) || n < 1) {
      Log(absl::StrCat("--threads wants numbers >= 1, got '", text, "'"));
      return 2;
    }
    counts.push_back(n);
  }
  absl::StatusOr<std::vector<WaitMode>> modes =
      ParseModes(absl::GetFlag(FLAGS_modes), "modes");
  absl::StatusOr<std::vector<WaitMode>> idle_modes =
      ParseModes(absl::GetFlag(FLAGS_idle_modes), "idle_modes");
  for (const auto* parsed : {&modes, &idle_modes}) {
    if (!parsed->ok()) {
      Log(std::string(parsed->status().message()));
      return 2;
    }
  }
  if (absl::GetFlag(FLAGS_window_s) <= 0 || absl::GetFlag(FLAGS_warmup_s) < 0 ||
      absl::GetFlag(FLAGS_wait_timeout_ms) < 1) {
    Log("--window_s must be > 0, --warmup_s >= 0, --wait_timeout_ms >= 1");
    return 2;
  }
  absl::StatusOr<WaitDevice> a =
      OpenWaitDevice(absl::GetFlag(FLAGS_device_a),
                     GidIndex(absl::GetFlag(FLAGS_gid_index_a)));
  absl::StatusOr<WaitDevice> b =
      OpenWaitDevice(absl::GetFlag(FLAGS_device_b),
                     GidIndex(absl::GetFlag(FLAGS_gid_index_b)));
  if (!a.ok() || !b.ok()) {
    Log(absl::StrCat("cannot open the devices: ",
                     (!a.ok() ? a.status() : b.status()).ToString()));
    return 2;
  }

  if (round % 2 == 1) {
    std::reverse(counts.begin(), counts.end());
  }
  bool ok = true;
  for (size_t ni = 0; ni < counts.size(); ++ni) {
    const int n = counts[ni];
    std::vector<Variant> variants;
    for (WaitMode mode : *modes) {
      variants.push_back(
          {std::string(WaitModeName(mode)), mode, WaitOptions().ack_batch});
    }
    if (n == absl::GetFlag(FLAGS_ack1_threads)) {
      variants.push_back({"event_ack1", WaitMode::kEvent, 1});
    }
    std::rotate(variants.begin(),
                variants.begin() + (round + ni) % variants.size(),
                variants.end());
    for (const Variant& variant : variants) {
      ok = RunPoint(*a, *b, round, n, variant) && ok;
    }
  }
  const int waiters = absl::GetFlag(FLAGS_idle_waiters);
  if (waiters > 0 && !idle_modes->empty()) {
    std::vector<WaitMode> order = *idle_modes;
    std::rotate(order.begin(), order.begin() + round % order.size(),
                order.end());
    for (WaitMode mode : order) {
      ok = RunIdle(*a, *b, round, mode, waiters) && ok;
    }
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace swift::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return swift::bench::Run();
}
