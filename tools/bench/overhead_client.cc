// overhead_client: one phase of the control-plane overhead benchmark
// (tools/bench/run overhead, overhead.sh): drives a steady rate of one kind
// of operation through swiftd and reads, over the same measured window, the
// CPU time of swiftd and its workers, of the application's other
// processes, of this client itself and of the whole machine.
//
//   overhead_client --mode=connect --socket=B.sock --host=A_IP:PORT
//       --service=bench --rate=100 --threads=8 --warmup_s=3 --window_s=15
//       --watch=swiftd_b:PID,swiftd_a:PID,server_a:PID
//   overhead_client --mode=warm|fork --function=NAME ... (same flags)
//   overhead_client --mode=idle --watch=...   (no load: the baseline)
//
// Modes: connect = Session::Connect to `service` on `host`, one 64 B RDMA
// WRITE into the server's buffer, an RDMA READ back, a compare, Close;
// warm / fork = Client::Invoke of `function` (what an application links:
// WARM and FORK go over a direct channel to the function's worker) with a
// --payload_bytes payload.
// Pacing is open loop: operation k is due at start + k / rate, whoever of
// --threads threads is free takes it, and one that finds itself late runs
// at once (the lag is reported), so the achieved rate falls short of the
// target only when the threads are all busy; nothing starts after the
// window's end. The load runs --warmup_s
// unmeasured, then the window: an operation counts when it ENDS inside
// the window, and the achieved rate is those over the window's length.
// CPU (overhead_cpu.h): for every --watch process its own time and its
// descendants' (swiftd's workers and their forked instances), this
// client's own time (/proc/self/stat), and /proc/stat's busy and idle
// core-seconds with the number of CPUs.
// Prints one JSON line; exits 0 when every operation of the run succeeded,
// 1 when some failed (the line says which), 2 on bad flags or set-up.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "swift/client.h"
#include "swift/session.h"
#include "tools/bench/overhead_cpu.h"
#include "tools/bench/write_read_back.h"

ABSL_FLAG(std::string, mode, "idle", "idle, connect, warm or fork.");
ABSL_FLAG(std::string, socket, "/run/swift/swiftd.sock", "Local swiftd.");
ABSL_FLAG(std::string, host, "", "connect: the server host's swiftd, ip:port.");
ABSL_FLAG(std::string, service, "bench", "connect: the service.");
ABSL_FLAG(std::string, function, "", "warm, fork: the registered function.");
ABSL_FLAG(int, payload_bytes, 64, "warm, fork: the invocation's payload.");
ABSL_FLAG(double, rate, 100, "Target operations per second (open loop).");
ABSL_FLAG(int, threads, 8, "Operations in flight at most.");
ABSL_FLAG(double, warmup_s, 3, "Seconds of load before the window.");
ABSL_FLAG(double, window_s, 15, "The measured window, seconds.");
ABSL_FLAG(std::vector<std::string>, watch, {},
          "NAME:PID of processes whose CPU (own and descendants') is read.");

namespace {

using Clock = std::chrono::steady_clock;
// Bytes written and read back per connection.
constexpr size_t kPayload = swift::bench::kReadBackBytes;

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// One finished operation.
struct Done {
  Clock::time_point end;
  double latency_us = 0;
  double lag_ms = 0;      // Start past its due time.
  double function_s = 0;  // warm/fork: the function's own time.
  bool spare = false;     // fork: served by a spare instance.
  std::string failure;    // Empty when it succeeded.
};

// Connect, write into this thread's slice, read back, compare, close.
absl::Status ConnectOnce(swift::Session& session, int thread, uint64_t k) {
  absl::StatusOr<std::unique_ptr<swift::Connection>> connection =
      session.Connect(absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_service),
                      absl::Seconds(10));
  if (!connection.ok()) {
    return connection.status();
  }
  swift::Connection& c = **connection;
  const size_t slot = static_cast<size_t>(thread) * 2 * kPayload;
  absl::Status verified = [&]() -> absl::Status {
    if (slot + 2 * kPayload > c.buffer_size() ||
        slot + kPayload > c.remote().length) {
      return absl::InvalidArgumentError(
          "the buffers are too small for this many threads");
    }
    return swift::bench::WriteAndReadBack(c, slot, slot,
                                          static_cast<char>('a' + k % 26),
                                          absl::StrCat("t", thread, "-op", k));
  }();
  absl::Status closed = c.Close();
  return verified.ok() ? closed : verified;
}

// A --watch entry.
struct Watched {
  std::string name;
  pid_t pid = 0;
};

absl::StatusOr<std::vector<Watched>> ParseWatch() {
  std::vector<Watched> watched;
  for (const std::string& entry : absl::GetFlag(FLAGS_watch)) {
    std::vector<std::string> parts = absl::StrSplit(entry, ':');
    int pid = 0;
    if (parts.size() != 2 || parts[0].empty() ||
        !absl::SimpleAtoi(parts[1], &pid) || pid <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--watch wants NAME:PID entries, comma-separated; got '",
                       entry, "'"));
    }
    watched.push_back({parts[0], static_cast<pid_t>(pid)});
  }
  return watched;
}

// Everything read at one edge of the window.
struct Reading {
  Clock::time_point at;  // The middle of the reading.
  std::vector<swift::bench::TreeCpu> trees;
  swift::bench::SystemCpu system;
  double self_s = 0;
};

// Reads the watched trees and the machine; this process's own time is read
// last at the window's start and first at its end, so that the /proc scans
// fall outside it.
absl::StatusOr<Reading> Read(const std::vector<Watched>& watched,
                             bool at_start) {
  Reading reading;
  if (!at_start) {
    absl::StatusOr<double> self = swift::bench::ReadProcessCpu(0);
    if (!self.ok()) {
      return self.status();
    }
    reading.self_s = *self;
  }
  const Clock::time_point begin = Clock::now();
  for (const Watched& w : watched) {
    absl::StatusOr<swift::bench::TreeCpu> tree =
        swift::bench::ReadTreeCpu(w.pid);
    if (!tree.ok()) {
      return absl::Status(tree.status().code(),
                          absl::StrCat(w.name, ": ", tree.status().message()));
    }
    reading.trees.push_back(*tree);
  }
  absl::StatusOr<swift::bench::SystemCpu> system =
      swift::bench::ReadSystemCpu();
  if (!system.ok()) {
    return system.status();
  }
  reading.system = *system;
  reading.at = begin + (Clock::now() - begin) / 2;
  if (at_start) {
    absl::StatusOr<double> self = swift::bench::ReadProcessCpu(0);
    if (!self.ok()) {
      return self.status();
    }
    reading.self_s = *self;
  }
  return reading;
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<size_t>(q * values.size()))];
}

int Run() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const double rate = absl::GetFlag(FLAGS_rate);
  const int threads = absl::GetFlag(FLAGS_threads);
  const double warmup_s = absl::GetFlag(FLAGS_warmup_s);
  const double window_s = absl::GetFlag(FLAGS_window_s);
  const bool connect = mode == "connect";
  const bool invoke = mode == "warm" || mode == "fork";
  if (!connect && !invoke && mode != "idle") {
    std::cerr << "overhead_client: --mode must be idle, connect, warm or "
                 "fork\n";
    return 2;
  }
  if (rate <= 0 || threads < 1 || threads > 256 || warmup_s < 0 ||
      window_s <= 0) {
    std::cerr << "overhead_client: --rate > 0, 1 <= --threads <= 256, "
                 "--warmup_s >= 0, --window_s > 0\n";
    return 2;
  }
  if (connect && absl::GetFlag(FLAGS_host).empty()) {
    std::cerr << "overhead_client: --mode=connect needs --host=IP:PORT\n";
    return 2;
  }
  if (invoke && absl::GetFlag(FLAGS_function).empty()) {
    std::cerr << "overhead_client: --mode=" << mode << " needs --function\n";
    return 2;
  }
  absl::StatusOr<std::vector<Watched>> watched = ParseWatch();
  if (!watched.ok()) {
    std::cerr << "overhead_client: " << watched.status().message() << "\n";
    return 2;
  }

  // Set up before the clock starts: the set-up is not the steady state.
  std::unique_ptr<swift::Session> session;
  std::unique_ptr<swift::Client> client;
  if (connect) {
    swift::SessionOptions options;
    options.socket_path = absl::GetFlag(FLAGS_socket);
    options.client_name = "overhead_client";
    options.pool_low = std::max(4, threads);
    options.pool_high = std::max(8, 2 * threads);
    options.buffer_bytes = std::max<size_t>(
        64 * 1024, static_cast<size_t>(threads) * 2 * kPayload);
    auto created = swift::Session::Create(options);
    if (!created.ok()) {
      std::cerr << "overhead_client: " << created.status() << "\n";
      return 2;
    }
    session = *std::move(created);
  } else if (invoke) {
    swift::ClientOptions options;
    options.socket_path = absl::GetFlag(FLAGS_socket);
    options.client_name = "overhead_client";
    auto connected = swift::Client::Connect(options);
    if (!connected.ok()) {
      std::cerr << "overhead_client: " << connected.status() << "\n";
      return 2;
    }
    client = *std::move(connected);
  }
  std::string payload(absl::GetFlag(FLAGS_payload_bytes), 'p');
  const swift::InvokeMode invoke_mode =
      mode == "warm" ? swift::InvokeMode::kWarm : swift::InvokeMode::kFork;

  const Clock::time_point start = Clock::now();
  const Clock::time_point window_begin =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(warmup_s));
  const Clock::time_point end =
      window_begin + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(window_s));
  std::atomic<uint64_t> next{0};
  std::vector<std::vector<Done>> done(threads);
  std::vector<std::thread> workers;
  if (connect || invoke) {
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        while (true) {
          const uint64_t k = next.fetch_add(1);
          const Clock::time_point due =
              start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(k / rate));
          // Past the window nothing new starts, not even a backlog of
          // operations that fell due before its end.
          if (due >= end || Clock::now() >= end) {
            return;
          }
          std::this_thread::sleep_until(due);
          Done d;
          const Clock::time_point begin = Clock::now();
          d.lag_ms = SecondsBetween(due, begin) * 1e3;
          absl::Status status;
          if (connect) {
            status = ConnectOnce(*session, t, k);
          } else {
            swift::Invocation invocation;
            invocation.function = absl::GetFlag(FLAGS_function);
            invocation.payload = payload;
            invocation.mode = invoke_mode;
            invocation.timeout = absl::Seconds(30);
            absl::StatusOr<swift::InvokeResult> result =
                client->Invoke(invocation);
            if (result.ok()) {
              d.function_s = absl::ToDoubleSeconds(result->function_time);
              d.spare = result->spare;
            } else {
              status = result.status();
            }
          }
          d.end = Clock::now();
          d.latency_us = SecondsBetween(begin, d.end) * 1e6;
          if (!status.ok()) {
            d.failure = absl::StatusCodeToString(status.code());
          }
          done[t].push_back(std::move(d));
        }
      });
    }
  }
  std::this_thread::sleep_until(window_begin);
  absl::StatusOr<Reading> first = Read(*watched, /*at_start=*/true);
  std::this_thread::sleep_until(end);
  absl::StatusOr<Reading> last = Read(*watched, /*at_start=*/false);
  for (std::thread& worker : workers) {
    worker.join();
  }
  if (!first.ok() || !last.ok()) {
    std::cerr << "overhead_client: reading CPU times: "
              << (first.ok() ? last.status() : first.status()) << "\n";
    return 2;
  }

  const double measured_s = SecondsBetween(first->at, last->at);
  std::vector<double> latency_us, lag_ms;
  std::map<std::string, int> failures;
  int ok = 0, failed_total = 0, spare = 0;
  double function_s = 0;
  for (const std::vector<Done>& per_thread : done) {
    for (const Done& d : per_thread) {
      failed_total += d.failure.empty() ? 0 : 1;
      if (d.end < first->at || d.end > last->at) {
        continue;
      }
      lag_ms.push_back(d.lag_ms);
      if (!d.failure.empty()) {
        ++failures[d.failure];
        continue;
      }
      ++ok;
      latency_us.push_back(d.latency_us);
      function_s += d.function_s;
      spare += d.spare ? 1 : 0;
    }
  }
  std::vector<std::string> reasons, cpu;
  int failed = 0;
  for (const auto& [reason, count] : failures) {
    failed += count;
    reasons.push_back(absl::StrFormat("\"%s\": %d", reason, count));
  }
  for (size_t i = 0; i < watched->size(); ++i) {
    const swift::bench::TreeCpu& a = first->trees[i];
    const swift::bench::TreeCpu& b = last->trees[i];
    cpu.push_back(
        absl::StrFormat("\"%s\": {\"own_s\": %.3f, \"descendants_s\": %.3f, "
                        "\"live_descendants\": %d}",
                        (*watched)[i].name, b.own_s - a.own_s,
                        b.descendants_s - a.descendants_s, b.live_descendants));
  }
  cpu.push_back(absl::StrFormat("\"client\": {\"own_s\": %.3f}",
                                last->self_s - first->self_s));
  cpu.push_back(absl::StrFormat(
      "\"system\": {\"busy_s\": %.3f, \"idle_s\": %.3f, \"cpus\": %d}",
      last->system.busy_s - first->system.busy_s,
      last->system.idle_s - first->system.idle_s,
      static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN))));
  std::cout << absl::StrFormat(
                   "{\"mode\": \"%s\", \"target_per_s\": %.1f, "
                   "\"threads\": %d, \"warmup_s\": %.1f, \"window_s\": %.3f, "
                   "\"ok\": %d, \"failed\": %d, \"failed_by_reason\": {%s}, "
                   "\"failed_whole_run\": %d, \"achieved_per_s\": %.2f, "
                   "\"latency_p50_us\": %.1f, \"latency_p99_us\": %.1f, "
                   "\"lag_p50_ms\": %.2f, \"lag_p99_ms\": %.2f, "
                   "\"function_s\": %.4f, \"spare\": %d, "
                   "\"cpu_s\": {%s}}",
                   mode, rate, connect || invoke ? threads : 0, warmup_s,
                   measured_s, ok, failed, absl::StrJoin(reasons, ", "),
                   failed_total, ok / measured_s, Percentile(latency_us, 0.5),
                   Percentile(latency_us, 0.99), Percentile(lag_ms, 0.5),
                   Percentile(lag_ms, 0.99), function_s, spare,
                   absl::StrJoin(cpu, ", "))
            << std::endl;
  return failed_total == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Run();
}
