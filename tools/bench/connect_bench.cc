// connect_bench: time to a brokered, verified RC connection with Swift,
// by a full handshake or from the pre-connected pool.
//
//   connect_bench --role=server --socket=A.sock --service=bench
//   connect_bench --role=client --socket=B.sock --host=IP:PORT
//       --service=bench --threads=4 --connections=50
//   connect_bench --role=client ... --threads=1 --connections=25
//       --prewarm=4 --paced --print_samples
//
// Server: a libswift Session listening on `service`; accepted connections
// (pre-connected pairs included) are kept until their client closes them.
// Runs until SIGTERM/SIGINT.
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
// failures by status code ("close:CODE" when only the Close() failed),
// with the first message of each (failure_examples).
//
// Pre-connected pool (--prewarm=N): before the warm-up the session calls
// Prewarm(host, service, N) and, before the timed part, waits until the
// pool is back at its target. Every connection is then classified by
// ConnectSteps::preconnected: "pool" (a checked pair from the pool) and
// "handshake" (none was ready) get percentiles of their own, the
// handshake's steps only from handshakes and the pool's steps (pool_take,
// check, probe) only from pool takes, never mixed; pool_hit_fraction is
// pool / verified. --paced (one thread): before each connection, wait until
// the pool is back at its target, so that the measurement itself never
// drains it (the refill makes one handshake at a time); the wait is not
// timed, and conn_per_s then means nothing. --print_samples adds every
// connection as [verified_us, connect_us, preconnected 0/1].
//
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
#include "common/verbs/step_timer.h"
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
ABSL_FLAG(int, prewarm, 0,
          "Client: keep this many connections pre-connected "
          "(Session::Prewarm) and wait for them before timing; 0 = no pool.");
ABSL_FLAG(bool, paced, false,
          "Client, with --prewarm and one thread: before each connection, "
          "wait until the pool is back at its target (untimed).");
ABSL_FLAG(int, refill_wait_s, 30,
          "Client: the longest wait for the pool to be at its target.");
ABSL_FLAG(bool, print_samples, false,
          "Client: every connection in the JSON line (\"samples\").");

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

// The steps of a connect from the pre-connected pool.
constexpr StepField kPoolStepFields[] = {
    {"pool_take", &swift::ConnectSteps::pool_take_us},
    {"check", &swift::ConnectSteps::check_us},
    {"probe", &swift::ConnectSteps::probe_us},
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

// Verified connections of one kind (all, from the pool, by handshake).
struct Latencies {
  std::vector<double> verified_us, connect_us, verify_us;

  void Add(const Outcome& outcome) {
    verified_us.push_back(outcome.verified_us);
    connect_us.push_back(outcome.connect_us);
    verify_us.push_back(outcome.verified_us - outcome.connect_us);
  }
  void Sort() {
    for (auto* samples : {&verified_us, &connect_us, &verify_us}) {
      std::sort(samples->begin(), samples->end());
    }
  }
  // {"count", percentiles of verified_us, connect and verify p50}; sorted.
  std::string Json() const {
    return absl::StrFormat(
        "\"count\": %d, \"p50_us\": %.1f, \"p90_us\": %.1f, "
        "\"p99_us\": %.1f, \"min_us\": %.1f, \"max_us\": %.1f, "
        "\"connect_p50_us\": %.1f, \"verify_p50_us\": %.1f",
        static_cast<int>(verified_us.size()), Percentile(verified_us, 0.5),
        Percentile(verified_us, 0.9), Percentile(verified_us, 0.99),
        verified_us.empty() ? 0.0 : verified_us.front(),
        verified_us.empty() ? 0.0 : verified_us.back(),
        Percentile(connect_us, 0.5), Percentile(verify_us, 0.5));
  }
};

// Each step's own p50 over `samples` (they need not add up to the
// connect's p50 exactly), as JSON members.
template <size_t N>
std::string StepsP50(const StepField (&fields)[N],
                     const std::vector<swift::ConnectSteps>& samples) {
  std::vector<std::string> members;
  for (const StepField& step : fields) {
    std::vector<double> values;
    values.reserve(samples.size());
    for (const swift::ConnectSteps& steps : samples) {
      values.push_back(steps.*step.field);
    }
    std::sort(values.begin(), values.end());
    members.push_back(
        absl::StrFormat("\"%s\": %.1f", step.name, Percentile(values, 0.5)));
  }
  return absl::StrJoin(members, ", ");
}

// Waits until the pre-connected pool holds its whole target again (the
// refill makes one handshake at a time); false after `limit`.
bool WaitForPoolAtTarget(const swift::Session& session, absl::Duration limit) {
  const absl::Time give_up = absl::Now() + limit;
  while (true) {
    const swift::PreconnectStats stats = session.preconnect_stats();
    if (stats.ready >= stats.target) {
      return true;
    }
    if (absl::Now() >= give_up) {
      return false;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
}

int RunClient() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int per_thread = absl::GetFlag(FLAGS_connections);
  const int storm_s = absl::GetFlag(FLAGS_storm_deadline_s);
  const int prewarm = absl::GetFlag(FLAGS_prewarm);
  const bool paced = absl::GetFlag(FLAGS_paced);
  const bool print_samples = absl::GetFlag(FLAGS_print_samples);
  const absl::Duration refill_wait =
      absl::Seconds(absl::GetFlag(FLAGS_refill_wait_s));
  if (threads < 1 || per_thread < 1 || storm_s < 0 || prewarm < 0 ||
      absl::GetFlag(FLAGS_refill_wait_s) < 1 ||
      absl::GetFlag(FLAGS_host).empty()) {
    std::cerr << "connect_bench: --host, --threads >= 1, --connections >= 1, "
                 "--storm_deadline_s >= 0, --prewarm >= 0, "
                 "--refill_wait_s >= 1\n";
    return 2;
  }
  if (paced && (prewarm == 0 || threads != 1)) {
    // Pacing waits for the pool between one thread's connections; with
    // several threads each would wait on the others' takes.
    std::cerr << "connect_bench: --paced needs --prewarm > 0 and "
                 "--threads=1\n";
    return 2;
  }
  swift::SessionOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "connect_bench";
  options.pool_low = std::max(4, threads);
  options.pool_high = std::max(8, 2 * threads);
  options.buffer_bytes = std::max<size_t>(64 * 1024, threads * 2 * kPayload);
  options.max_preconnected = std::max(options.max_preconnected, prewarm);
  auto session = swift::Session::Create(options);
  if (!session.ok()) {
    std::cerr << "connect_bench: " << session.status() << "\n";
    return 1;
  }
  const absl::Duration timeout =
      storm_s > 0 ? absl::Seconds(storm_s) : absl::Seconds(10);
  int prewarm_ready = 0;
  double prewarm_ms = 0;
  if (prewarm > 0) {
    const absl::Time begin = absl::Now();
    absl::StatusOr<int> ready =
        (*session)->Prewarm(absl::GetFlag(FLAGS_host),
                            absl::GetFlag(FLAGS_service), prewarm, refill_wait);
    prewarm_ms = absl::ToDoubleMilliseconds(absl::Now() - begin);
    if (!ready.ok()) {
      std::cerr << "connect_bench: Prewarm(" << prewarm
                << "): " << ready.status() << "\n";
      return 1;
    }
    prewarm_ready = *ready;
  }
  // Untimed paced waits that ran out: the connection after one may be a
  // handshake (it is then counted as one, never as a pool sample).
  std::atomic<int> pace_timeouts{0};
  auto pace = [&] {
    if (paced && !WaitForPoolAtTarget(**session, refill_wait)) {
      ++pace_timeouts;
    }
  };
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) {
    pace();
    if (Outcome warm = OneConnection(**session, 0, i, timeout);
        !warm.status.ok()) {
      std::cerr << "connect_bench warm-up: " << warm.status << "\n";
      return 1;
    }
  }
  // The timed part starts with the pool full.
  bool pool_full_at_start = true;
  if (prewarm > 0) {
    pool_full_at_start = WaitForPoolAtTarget(**session, refill_wait);
  }

  std::mutex mu;
  Latencies all, pooled, handshakes;
  std::vector<double> close_us;
  std::vector<swift::ConnectSteps> pool_steps, handshake_steps;
  // [verified_us, connect_us, preconnected] per verified connection.
  std::vector<std::string> samples;
  std::map<std::string, int> failures;
  // The first failure's message per reason: what went wrong, not only how
  // often.
  std::map<std::string, std::string> failure_examples;
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
        pace();
        busy_since[t] = since_start_ns() + 1;
        Outcome outcome = OneConnection(**session, t, i, timeout);
        busy_since[t] = 0;
        std::lock_guard<std::mutex> lock(mu);
        if (outcome.status.ok()) {
          const bool from_pool = outcome.steps.preconnected;
          all.Add(outcome);
          (from_pool ? pooled : handshakes).Add(outcome);
          (from_pool ? pool_steps : handshake_steps).push_back(outcome.steps);
          close_us.push_back(outcome.close_us);
          if (print_samples) {
            samples.push_back(absl::StrFormat("[%.1f, %.1f, %d]",
                                              outcome.verified_us,
                                              outcome.connect_us, from_pool));
          }
        } else {
          const std::string reason =
              absl::StrCat(outcome.closing ? "close:" : "",
                           absl::StatusCodeToString(outcome.status.code()));
          ++failures[reason];
          failure_examples.emplace(reason, outcome.status.message());
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
  for (Latencies* latencies : {&all, &pooled, &handshakes}) {
    latencies->Sort();
  }
  std::sort(close_us.begin(), close_us.end());
  int failed = 0;
  std::vector<std::string> reasons;
  std::vector<std::string> examples;
  for (const auto& [reason, count] : failures) {
    failed += count;
    reasons.push_back(absl::StrFormat("\"%s\": %d", reason, count));
    examples.push_back(absl::StrCat(
        "\"", reason,
        "\": ", swift::verbs::JsonQuote(failure_examples[reason])));
  }
  const int ok = static_cast<int>(all.verified_us.size());
  const swift::PoolStats pool = (*session)->pool_stats();
  const swift::PreconnectStats pre = (*session)->preconnect_stats();
  // The top-level percentiles are over every verified connection (as
  // before the pool existed); "pool" and "handshake" split them.
  std::cout
      << absl::StrFormat(
             "{\"bench\": \"connect_bench\", \"threads\": %d, "
             "\"connections_per_thread\": %d, "
             "\"total\": %d, \"ok\": %d, \"failed\": %d, "
             "\"failed_by_reason\": {%s}, \"failure_examples\": {%s}, "
             "\"stuck\": %d, "
             "\"storm_deadline_s\": %d, "
             "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, "
             "\"min_us\": %.1f, \"max_us\": %.1f, "
             "\"connect_p50_us\": %.1f, \"verify_p50_us\": %.1f, "
             "\"close_p50_us\": %.1f, \"close_p99_us\": %.1f, "
             "\"connect_steps_p50_us\": {%s}, "
             "\"wall_s\": %.3f, \"conn_per_s\": %.1f, "
             "\"pool_hits\": %d, \"pool_misses\": %d, "
             "\"pool_recycled\": %d, "
             "\"prewarm\": %d, \"paced\": %s, \"prewarm_ready\": %d, "
             "\"prewarm_ms\": %.1f, \"pool_full_at_start\": %s, "
             "\"pace_timeouts\": %d, \"pool_hit_fraction\": %.4f, "
             "\"pool\": {%s, \"steps_p50_us\": {%s}}, "
             "\"handshake\": {%s}, "
             "\"preconnect\": {\"ready\": %d, \"target\": %d, "
             "\"made\": %d, \"hits\": %d, \"misses\": %d, "
             "\"discarded\": %d, \"refill_errors\": %d, "
             "\"last_discard_reason\": %s, "
             "\"last_refill_error\": %s}%s}",
             threads, per_thread, threads * per_thread, ok, failed,
             absl::StrJoin(reasons, ", "), absl::StrJoin(examples, ", "), stuck,
             storm_s, Percentile(all.verified_us, 0.5),
             Percentile(all.verified_us, 0.9),
             Percentile(all.verified_us, 0.99),
             all.verified_us.empty() ? 0.0 : all.verified_us.front(),
             all.verified_us.empty() ? 0.0 : all.verified_us.back(),
             Percentile(all.connect_us, 0.5), Percentile(all.verify_us, 0.5),
             Percentile(close_us, 0.5), Percentile(close_us, 0.99),
             StepsP50(kStepFields, handshake_steps), wall_s, ok / wall_s,
             static_cast<int>(pool.hits), static_cast<int>(pool.misses),
             static_cast<int>(pool.recycled), prewarm, paced ? "true" : "false",
             prewarm_ready, prewarm_ms, pool_full_at_start ? "true" : "false",
             pace_timeouts.load(),
             ok > 0 ? static_cast<double>(pooled.verified_us.size()) / ok : 0.0,
             pooled.Json(), StepsP50(kPoolStepFields, pool_steps),
             handshakes.Json(), pre.ready, pre.target,
             static_cast<int>(pre.made), static_cast<int>(pre.hits),
             static_cast<int>(pre.misses), static_cast<int>(pre.discarded),
             static_cast<int>(pre.refill_errors),
             swift::verbs::JsonQuote(pre.last_discard_reason),
             swift::verbs::JsonQuote(pre.last_refill_error),
             print_samples ? absl::StrCat(", \"samples\": [",
                                          absl::StrJoin(samples, ", "), "]")
                           : "")
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
