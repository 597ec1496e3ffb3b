// invoke_bench: end-to-end latency of Swift function invocations, as a
// caller of swiftd's Control API sees them, for each mode.
//
//   invoke_bench --socket=B.sock --library=/abs/write_function.so
//       --connect=A_IP:PORT/sink --cold=10 --warm=200 --fork=200
//
// Registers the function twice (each worker connects to the sink): with a
// spare instance (the default) and with none (every FORK forks on
// arrival). Then, with a 4 KiB payload:
//   fork            FORK invocations arriving --fork_interval_ms apart
//                   (requests that find a spare forked since the last one);
//   fork_burst      FORK invocations back to back (spares run out: the
//                   rate forks can be made at);
//   fork_on_demand  FORK invocations of the function without spares;
//   warm, cold      as named; warm_paced: warm arriving as `fork` does
//                   (the control: an idle machine answers slower).
// Prints one JSON line: p50/p99 (us), invocations/s and where the time
// went per mode, how many ran in spares, and the worker's start-up time.
// With --rounds=N and --raw_client, then N interleaved rounds, each one
// fresh raw-verbs client process (its argv: --raw_client, timed from fork
// to exit, as the raw baseline's process_us) followed by one COLD
// invocation, each after --round_pause_ms, so that both see the same
// (idle) machine ("rounds" in the JSON: medians, min and max of each).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/control/control_client.h"

ABSL_FLAG(std::string, socket, "/run/swift/swiftd.sock", "swiftd's socket.");
ABSL_FLAG(std::string, library, "", "The function library (absolute path).");
ABSL_FLAG(std::string, connect, "", "host/service the function writes to.");
ABSL_FLAG(int, payload_bytes, 4096, "Bytes the function writes and verifies.");
ABSL_FLAG(int, cold, 10, "Cold invocations.");
ABSL_FLAG(int, warm, 200, "Warm invocations.");
ABSL_FLAG(int, fork, 200, "Fork invocations (each of the three fork runs).");
ABSL_FLAG(int, rounds, 0,
          "Interleaved rounds of one raw-verbs client process and one COLD "
          "invocation; 0: none.");
ABSL_FLAG(std::vector<std::string>, raw_client, {},
          "argv of the raw-verbs client each round runs (comma-separated, "
          "the binary first); it prints a JSON line with \"ok\":true.");
ABSL_FLAG(int, round_pause_ms, 250,
          "Pause before each raw process and each COLD invocation of the "
          "rounds: what either left running in the background (a process's "
          "teardown, a template topping up its connections) ends before "
          "the next is timed.");
ABSL_FLAG(int, fork_interval_ms, 250,
          "Pause between paced fork invocations: time for the worker to "
          "fork the next spare.");

namespace {

struct Summary {
  double p50 = 0, p99 = 0, per_s = 0;
  // The first invocation (a COLD one may start its tenant's template).
  double first = 0;
  // Medians of where the time went: the server (swiftd's request to reply;
  // for WARM and FORK on a direct channel, which bypasses swiftd, the
  // worker's: the same as worker_p50), the worker
  // (request to the instance's reply, fork included), the function.
  double server_p50 = 0, worker_p50 = 0, function_p50 = 0;
  int ok = 0, failed = 0;
  // Invocations a spare instance served, and of those, the ones that went
  // straight to a spare holding the caller's channel.
  int spare = 0;
  int parked = 0;
  std::string last_error;
};

Summary Run(swift::ControlClient& client, const std::string& function_name,
            swift::v1::InvokeRequest::Mode mode, int count,
            const std::string& payload, absl::Duration interval) {
  Summary summary;
  std::vector<double> samples, server, worker, function;
  absl::Duration paused;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    if (i > 0 && interval > absl::ZeroDuration()) {
      absl::SleepFor(interval);
      paused += interval;
    }
    swift::v1::InvokeRequest request;
    request.set_function(function_name);
    request.set_payload(payload);
    request.set_mode(mode);
    request.set_timeout_ms(30000);
    const auto begin = std::chrono::steady_clock::now();
    auto invoked = client.Invoke(request);
    const auto end = std::chrono::steady_clock::now();
    if (!invoked.ok()) {
      ++summary.failed;
      summary.last_error = std::string(invoked.status().message());
      continue;
    }
    ++summary.ok;
    summary.spare += invoked->spare() ? 1 : 0;
    summary.parked += invoked->parked() ? 1 : 0;
    server.push_back(invoked->total_us());
    worker.push_back(invoked->worker_us());
    function.push_back(invoked->function_us());
    samples.push_back(
        std::chrono::duration<double, std::micro>(end - begin).count());
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count() -
      absl::ToDoubleSeconds(paused);
  if (!samples.empty()) {
    summary.first = samples.front();
  }
  std::sort(samples.begin(), samples.end());
  if (!samples.empty()) {
    summary.p50 = samples[samples.size() / 2];
    summary.p99 = samples[std::min(samples.size() - 1,
                                   static_cast<size_t>(0.99 * samples.size()))];
  }
  summary.per_s = summary.ok / wall;
  auto median = [](std::vector<double> values) {
    if (values.empty()) {
      return 0.0;
    }
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  };
  summary.server_p50 = median(server);
  summary.worker_p50 = median(worker);
  summary.function_p50 = median(function);
  return summary;
}

std::string Json(const std::string& name, const Summary& s) {
  return absl::StrFormat(
      "\"%s\": {\"p50_us\": %.1f, \"p99_us\": %.1f, \"per_s\": %.1f, "
      "\"server_p50_us\": %.1f, \"worker_p50_us\": %.1f, "
      "\"function_p50_us\": %.1f, \"spare\": %d, \"parked\": %d, "
      "\"first_us\": %.1f, "
      "\"ok\": %d, \"failed\": %d, \"last_error\": \"%s\"}",
      name, s.p50, s.p99, s.per_s, s.server_p50, s.worker_p50, s.function_p50,
      s.spare, s.parked, s.first, s.ok, s.failed, s.last_error);
}

// One run of the raw-verbs client `argv`: fork to exit (us), its own
// "total_us", and whether it succeeded.
struct RawRun {
  double process_us = 0;
  double total_us = 0;
  bool ok = false;
};

RawRun RunRawClient(const std::vector<std::string>& argv) {
  RawRun run;
  int out[2];
  if (argv.empty() || pipe(out) != 0) {
    return run;
  }
  const auto begin = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> args;
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  std::string output;
  char buffer[4096];
  ssize_t got;
  while ((got = read(out[0], buffer, sizeof(buffer))) > 0) {
    output.append(buffer, static_cast<size_t>(got));
  }
  close(out[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    return run;
  }
  run.process_us = std::chrono::duration<double, std::micro>(
                       std::chrono::steady_clock::now() - begin)
                       .count();
  const size_t total = output.find("\"total_us\":");
  if (total != std::string::npos) {
    run.total_us = std::atof(output.c_str() + total + 11);
  }
  run.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
           output.find("\"ok\":true") != std::string::npos;
  return run;
}

// Median, min and max of `values` as JSON fields named PREFIX_p50_us, ...
std::string Spread(const std::string& prefix, std::vector<double> values) {
  if (values.empty()) {
    return absl::StrFormat("\"%s_p50_us\": null", prefix);
  }
  std::sort(values.begin(), values.end());
  return absl::StrFormat(
      "\"%s_p50_us\": %.1f, \"%s_min_us\": %.1f, \"%s_max_us\": %.1f",
      prefix, values[values.size() / 2], prefix, values.front(), prefix,
      values.back());
}

// --rounds interleaved rounds: a raw client process, then a COLD
// invocation of `function`; the "rounds" JSON object.
std::string Rounds(swift::ControlClient& client, const std::string& function,
                   const std::string& payload, int* failures) {
  const int rounds = absl::GetFlag(FLAGS_rounds);
  std::vector<double> raw_process, raw_total, cold, cold_server;
  int raw_failed = 0;
  int cold_failed = 0;
  std::string last_error;
  const absl::Duration pause =
      absl::Milliseconds(absl::GetFlag(FLAGS_round_pause_ms));
  for (int i = 0; i < rounds; ++i) {
    absl::SleepFor(pause);
    const RawRun raw = RunRawClient(absl::GetFlag(FLAGS_raw_client));
    if (raw.ok) {
      raw_process.push_back(raw.process_us);
      raw_total.push_back(raw.total_us);
    } else {
      ++raw_failed;
    }
    absl::SleepFor(pause);
    const Summary one = Run(client, function, swift::v1::InvokeRequest::COLD,
                            1, payload, absl::ZeroDuration());
    if (one.ok == 1) {
      cold.push_back(one.p50);
      cold_server.push_back(one.server_p50);
    } else {
      ++cold_failed;
      last_error = one.last_error;
    }
  }
  *failures += raw_failed + cold_failed;
  return absl::StrFormat(
      "\"rounds\": {\"n\": %d, %s, %s, %s, %s, \"raw_failed\": %d, "
      "\"cold_failed\": %d, \"last_error\": \"%s\"}",
      rounds, Spread("raw_process", raw_process),
      Spread("raw_inprocess", raw_total), Spread("cold", cold),
      Spread("cold_server", cold_server), raw_failed, cold_failed, last_error);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  swift::ClientOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "invoke_bench";
  options.attach = false;
  auto client = swift::ControlClient::Connect(options);
  if (!client.ok()) {
    std::cerr << "invoke_bench: " << client.status().message() << "\n";
    return 1;
  }
  const std::string target = absl::GetFlag(FLAGS_connect);
  const size_t slash = target.rfind('/');
  if (slash == std::string::npos || absl::GetFlag(FLAGS_library).empty()) {
    std::cerr << "invoke_bench: --library and --connect=host/service\n";
    return 2;
  }
  // Registers `name`; returns the worker's start-up time (us), 0 on error.
  auto register_function = [&](const std::string& name, int spares) {
    swift::v1::RegisterFunctionRequest request;
    request.set_name(name);
    request.set_library_path(absl::GetFlag(FLAGS_library));
    swift::v1::FunctionPeer* peer = request.add_peers();
    peer->set_host(target.substr(0, slash));
    peer->set_service(target.substr(slash + 1));
    request.set_max_instances(8);
    request.set_prepared(4);
    request.set_spare_instances(spares);
    auto registered = (*client)->RegisterFunction(request);
    if (!registered.ok()) {
      std::cerr << "invoke_bench: " << registered.status().message() << "\n";
      return uint64_t{0};
    }
    return registered->worker_startup_us();
  };
  const uint64_t startup_us = register_function("bench_write", 1);
  if (startup_us == 0 || register_function("bench_write_on_demand", 0) == 0) {
    return 1;
  }
  std::string payload(absl::GetFlag(FLAGS_payload_bytes), 'x');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>('a' + i % 26);
  }
  using Mode = swift::v1::InvokeRequest;
  const int forks = absl::GetFlag(FLAGS_fork);
  const absl::Duration none = absl::ZeroDuration();
  // Fork first: warm then reuses the instances fork left idle.
  const Summary fork =
      Run(**client, "bench_write", Mode::FORK, forks, payload,
          absl::Milliseconds(absl::GetFlag(FLAGS_fork_interval_ms)));
  const Summary burst =
      Run(**client, "bench_write", Mode::FORK, forks, payload, none);
  const Summary on_demand =
      Run(**client, "bench_write_on_demand", Mode::FORK, forks, payload, none);
  const Summary warm = Run(**client, "bench_write", Mode::WARM,
                           absl::GetFlag(FLAGS_warm), payload, none);
  const Summary warm_paced =
      Run(**client, "bench_write", Mode::WARM, forks, payload,
          absl::Milliseconds(absl::GetFlag(FLAGS_fork_interval_ms)));
  const Summary cold = Run(**client, "bench_write", Mode::COLD,
                           absl::GetFlag(FLAGS_cold), payload, none);
  int round_failures = 0;
  const std::string rounds =
      absl::GetFlag(FLAGS_rounds) > 0
          ? ", " + Rounds(**client, "bench_write", payload, &round_failures)
          : "";
  std::cout << "{\"bench\": \"invoke_bench\", \"payload_bytes\": "
            << payload.size() << ", \"worker_startup_us\": " << startup_us
            << ", \"fork_interval_ms\": "
            << absl::GetFlag(FLAGS_fork_interval_ms) << ", "
            << Json("fork", fork) << ", " << Json("fork_burst", burst) << ", "
            << Json("fork_on_demand", on_demand) << ", " << Json("warm", warm)
            << ", " << Json("warm_paced", warm_paced) << ", "
            << Json("cold", cold) << rounds << "}" << std::endl;
  return fork.failed + burst.failed + on_demand.failed + warm.failed +
                     warm_paced.failed + cold.failed + round_failures ==
                 0
             ? 0
             : 1;
}
