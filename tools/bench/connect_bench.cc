// connect_bench: time to a brokered, verified RC connection with Swift.
//
//   connect_bench --role=server --socket=A.sock --service=bench
//   connect_bench --role=client --socket=B.sock --host=IP:PORT
//       --service=bench --threads=4 --connections=50
//
// Server: a libswift Session listening on `service`; accepted connections
// are kept until their client closes them. Runs until SIGTERM/SIGINT.
// Client: `threads` threads each make `connections` connections one after
// another (after `warmup` untimed ones); each one is Connect(), one RDMA
// WRITE of 64 B into the server's buffer, an RDMA READ of the same bytes
// back (proof they landed), a compare, then Close(). Prints one JSON line:
// latency percentiles from the start of Connect() to the verified bytes
// (us; Close() is not in it: it is reported apart as close_p50_us), the
// same split into connect and verify, the connect split into its steps
// (connect_steps_p50_us, see swift::ConnectSteps: pool, client<->swiftd,
// broker, admission, peer link, remote swiftd, swiftd<->application, the
// application's and this side's RTR/RTS), connections per second (verified
// connections / wall time of the whole run, Close() included), and
// failures by status code ("close:CODE" when only the Close() failed).
// With --storm_deadline_s the connects run with that deadline and a
// watchdog counts connections still running 30 s past it ("stuck"; the
// client then exits without waiting for them).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "swift/session.h"
#include "tools/bench/write_read_back.h"

ABSL_FLAG(std::string, role, "client", "server or client.");
ABSL_FLAG(std::string, socket, "/run/swift/swiftd.sock", "Local swiftd.");
ABSL_FLAG(std::string, host, "", "Client: the server host's swiftd, ip:port.");
ABSL_FLAG(std::string, service, "bench", "Service name.");
ABSL_FLAG(int, backlog, 64, "Server: QPs advertised to swiftd.");
ABSL_FLAG(int, threads, 1, "Client: concurrent threads.");
ABSL_FLAG(int, connections, 20, "Client: connections per thread.");
ABSL_FLAG(int, warmup, 2, "Client: untimed connections first (per run).");
ABSL_FLAG(int, storm_deadline_s, 0,
          "Client: per-connect deadline in seconds; 0 = 10 s and no watchdog.");

namespace {

// Bytes written and read back per connection.
constexpr size_t kPayload = swift::bench::kReadBackBytes;
// A storm connection running this long past its deadline is stuck.
constexpr int kStuckGraceS = 30;

using Clock = std::chrono::steady_clock;

double MicrosBetween(Clock::time_point begin, Clock::time_point end) {
  return std::chrono::duration<double, std::micro>(end - begin).count();
}

// What one connection took, and how it ended.
struct Outcome {
  absl::Status status;
  bool closing = false;       // status is Close()'s (the bytes were verified).
  double connect_us = 0;      // Connect().
  double verified_us = 0;     // Connect() + WRITE + READ + compare.
  double close_us = 0;        // Close().
  swift::ConnectSteps steps;  // Connect(), step by step.
};

// The steps of swift::ConnectSteps, in path order, with their JSON names.
struct StepField {
  const char* name;
  double swift::ConnectSteps::*field;
};
constexpr StepField kStepFields[] = {
    {"pool_take", &swift::ConnectSteps::pool_take_us},
    {"to_swiftd", &swift::ConnectSteps::to_swiftd_us},
    {"broker", &swift::ConnectSteps::broker_us},
    {"admission", &swift::ConnectSteps::admission_us},
    {"peer_link", &swift::ConnectSteps::peer_link_us},
    {"remote_swiftd", &swift::ConnectSteps::remote_us},
    {"to_app", &swift::ConnectSteps::to_app_us},
    {"app_accept", &swift::ConnectSteps::app_accept_us},
    {"transitions", &swift::ConnectSteps::transitions_us},
};

// One connection: connect, write, read back, compare, close.
Outcome OneConnection(swift::Session& session, int thread, int index,
                      absl::Duration timeout) {
  Outcome outcome;
  const Clock::time_point begin = Clock::now();
  absl::StatusOr<std::unique_ptr<swift::Connection>> connection =
      session.Connect(absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_service),
                      timeout);
  outcome.connect_us = MicrosBetween(begin, Clock::now());
  if (!connection.ok()) {
    outcome.status = connection.status();
    return outcome;
  }
  outcome.steps = (*connection)->connect_steps();
  outcome.status = [&]() -> absl::Status {
    swift::Connection& c = **connection;
    // Each thread owns a slice of both buffers.
    const size_t slot = static_cast<size_t>(thread) * 2 * kPayload;
    if (slot + 2 * kPayload > c.buffer_size() ||
        slot + kPayload > c.remote().length) {
      return absl::InvalidArgumentError("buffers too small for the threads");
    }
    return swift::bench::WriteAndReadBack(
        c, slot, slot, static_cast<char>('a' + index % 26),
        absl::StrFormat("t%d-c%d", thread, index));
  }();
  const Clock::time_point verified = Clock::now();
  outcome.verified_us = MicrosBetween(begin, verified);
  // Closed on failure too: the QP goes back to the pool.
  absl::Status closed = (*connection)->Close();
  outcome.close_us = MicrosBetween(verified, Clock::now());
  if (outcome.status.ok() && !closed.ok()) {
    outcome.status = closed;
    outcome.closing = true;
  }
  return outcome;
}

int RunServer() {
  swift::SessionOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "connect_bench-server";
  options.pool_low = absl::GetFlag(FLAGS_backlog);
  options.pool_high = 2 * absl::GetFlag(FLAGS_backlog);
  options.buffer_bytes = 64 * 1024;
  auto session = swift::Session::Create(options);
  if (!session.ok()) {
    std::cerr << "connect_bench server: " << session.status() << "\n";
    return 1;
  }
  auto listener = (*session)->Listen(absl::GetFlag(FLAGS_service),
                                     absl::GetFlag(FLAGS_backlog));
  if (!listener.ok()) {
    std::cerr << "connect_bench server: " << listener.status() << "\n";
    return 1;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::atomic<bool> stopping{false};
  std::thread waiter([&] {
    int signal_number;
    sigwait(&stop, &signal_number);
    stopping = true;
  });
  std::cout << "ready" << std::endl;
  std::vector<std::unique_ptr<swift::Connection>> live;
  uint64_t accepted = 0;
  while (!stopping) {
    auto connection = (*listener)->Accept(absl::Milliseconds(20));
    if (connection.ok()) {
      live.push_back(*std::move(connection));
      ++accepted;
    } else if (!absl::IsDeadlineExceeded(connection.status())) {
      std::cerr << "connect_bench server: " << connection.status() << "\n";
      break;
    }
    // Connections whose client closed go back to the pool.
    live.erase(std::remove_if(live.begin(), live.end(),
                              [](const auto& c) { return c->peer_closed(); }),
               live.end());
  }
  waiter.join();
  std::cerr << "connect_bench server: accepted " << accepted << "\n";
  return 0;
}

// sorted[q * n]: the percentile convention of every Swift benchmark.
double Percentile(const std::vector<double>& sorted, double q) {
  return sorted.empty()
             ? 0.0
             : sorted[std::min(sorted.size() - 1,
                               static_cast<size_t>(q * sorted.size()))];
}

int RunClient() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int per_thread = absl::GetFlag(FLAGS_connections);
  const int storm_s = absl::GetFlag(FLAGS_storm_deadline_s);
  if (threads < 1 || per_thread < 1 || storm_s < 0 ||
      absl::GetFlag(FLAGS_host).empty()) {
    std::cerr << "connect_bench: --host, --threads >= 1, --connections >= 1, "
                 "--storm_deadline_s >= 0\n";
    return 2;
  }
  swift::SessionOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "connect_bench";
  options.pool_low = std::max(4, threads);
  options.pool_high = std::max(8, 2 * threads);
  options.buffer_bytes = std::max<size_t>(64 * 1024, threads * 2 * kPayload);
  auto session = swift::Session::Create(options);
  if (!session.ok()) {
    std::cerr << "connect_bench: " << session.status() << "\n";
    return 1;
  }
  const absl::Duration timeout =
      storm_s > 0 ? absl::Seconds(storm_s) : absl::Seconds(10);
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) {
    if (Outcome warm = OneConnection(**session, 0, i, timeout);
        !warm.status.ok()) {
      std::cerr << "connect_bench warm-up: " << warm.status << "\n";
      return 1;
    }
  }

  std::mutex mu;
  std::vector<double> latencies_us, connect_us, verify_us, close_us;
  std::vector<std::vector<double>> steps_us(std::size(kStepFields));
  std::map<std::string, int> failures;
  std::atomic<int> running{threads};
  // When each thread's current connection began (ns since `start`, +1 so
  // that 0 means idle): the watchdog's view.
  std::vector<std::atomic<int64_t>> busy_since(threads);
  for (auto& since : busy_since) {
    since = 0;
  }
  const Clock::time_point start = Clock::now();
  auto since_start_ns = [start] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                                start)
        .count();
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        busy_since[t] = since_start_ns() + 1;
        Outcome outcome = OneConnection(**session, t, i, timeout);
        busy_since[t] = 0;
        std::lock_guard<std::mutex> lock(mu);
        if (outcome.status.ok()) {
          latencies_us.push_back(outcome.verified_us);
          connect_us.push_back(outcome.connect_us);
          verify_us.push_back(outcome.verified_us - outcome.connect_us);
          close_us.push_back(outcome.close_us);
          for (size_t s = 0; s < std::size(kStepFields); ++s) {
            steps_us[s].push_back(outcome.steps.*kStepFields[s].field);
          }
        } else {
          ++failures[absl::StrCat(
              outcome.closing ? "close:" : "",
              absl::StatusCodeToString(outcome.status.code()))];
        }
      }
      --running;
    });
  }
  // The watchdog: a connection still running kStuckGraceS past its
  // deadline is stuck; once every unfinished thread is stuck (or the run
  // overran every deadline), stop waiting.
  int stuck = 0;
  if (storm_s > 0) {
    const int64_t stuck_ns =
        static_cast<int64_t>(storm_s + kStuckGraceS) * 1000000000;
    const auto limit =
        start + std::chrono::seconds(storm_s * per_thread + kStuckGraceS);
    while (running > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const int64_t now_ns = since_start_ns();
      int unfinished_stuck = 0;
      for (auto& since : busy_since) {
        const int64_t began = since.load();
        if (began != 0 && now_ns - (began - 1) > stuck_ns) {
          ++unfinished_stuck;
        }
      }
      if ((unfinished_stuck > 0 && unfinished_stuck >= running) ||
          Clock::now() >= limit) {
        stuck = 0;
        for (auto& since : busy_since) {
          stuck += since.load() != 0 ? 1 : 0;
        }
        break;
      }
    }
    if (stuck > 0) {
      for (auto& worker : workers) {
        worker.detach();
      }
    }
  }
  if (stuck == 0) {
    for (auto& worker : workers) {
      worker.join();
    }
  }
  const double wall_s =
      std::chrono::duration<double>(Clock::now() - start).count();
  std::lock_guard<std::mutex> lock(mu);
  for (auto* samples : {&latencies_us, &connect_us, &verify_us, &close_us}) {
    std::sort(samples->begin(), samples->end());
  }
  // Each step's own p50: they need not add up to connect_p50_us exactly.
  std::vector<std::string> steps_p50;
  for (size_t s = 0; s < std::size(kStepFields); ++s) {
    std::sort(steps_us[s].begin(), steps_us[s].end());
    steps_p50.push_back(absl::StrFormat("\"%s\": %.1f", kStepFields[s].name,
                                        Percentile(steps_us[s], 0.5)));
  }
  int failed = 0;
  std::vector<std::string> reasons;
  for (const auto& [reason, count] : failures) {
    failed += count;
    reasons.push_back(absl::StrFormat("\"%s\": %d", reason, count));
  }
  const swift::PoolStats pool = (*session)->pool_stats();
  std::cout << absl::StrFormat(
                   "{\"bench\": \"connect_bench\", \"threads\": %d, "
                   "\"connections_per_thread\": %d, "
                   "\"total\": %d, \"ok\": %d, \"failed\": %d, "
                   "\"failed_by_reason\": {%s}, \"stuck\": %d, "
                   "\"storm_deadline_s\": %d, "
                   "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, "
                   "\"min_us\": %.1f, \"max_us\": %.1f, "
                   "\"connect_p50_us\": %.1f, \"verify_p50_us\": %.1f, "
                   "\"close_p50_us\": %.1f, \"close_p99_us\": %.1f, "
                   "\"connect_steps_p50_us\": {%s}, "
                   "\"wall_s\": %.3f, \"conn_per_s\": %.1f, "
                   "\"pool_hits\": %d, \"pool_misses\": %d, "
                   "\"pool_recycled\": %d}",
                   threads, per_thread, threads * per_thread,
                   static_cast<int>(latencies_us.size()), failed,
                   absl::StrJoin(reasons, ", "), stuck, storm_s,
                   Percentile(latencies_us, 0.5), Percentile(latencies_us, 0.9),
                   Percentile(latencies_us, 0.99),
                   latencies_us.empty() ? 0.0 : latencies_us.front(),
                   latencies_us.empty() ? 0.0 : latencies_us.back(),
                   Percentile(connect_us, 0.5), Percentile(verify_us, 0.5),
                   Percentile(close_us, 0.5), Percentile(close_us, 0.99),
                   absl::StrJoin(steps_p50, ", "), wall_s,
                   latencies_us.size() / wall_s, static_cast<int>(pool.hits),
                   static_cast<int>(pool.misses),
                   static_cast<int>(pool.recycled))
            << std::endl;
  if (stuck > 0) {
    std::_Exit(0);  // Stuck threads hold the session: leave without teardown.
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "server") {
    return RunServer();
  }
  if (role == "client") {
    return RunClient();
  }
  std::cerr << "connect_bench: --role must be server or client\n";
  return 2;
}
