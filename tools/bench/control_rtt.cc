// control_rtt: the round-trip time of Control API calls over swiftd's Unix
// socket, as libswift sees it (sync gRPC unary calls, one at a time).
//
// Prints one JSON line: percentiles in microseconds for GetStatus and Ping.
// Run through tools/bench/run control_rtt, which starts a swiftd for it.
// With --baseline_socket (a second swiftd started with --fast_path_spin=0)
// the fast-path ping is also timed without spinning on either side (a
// client with fast_path_spin 0 against that swiftd), in the same rounds:
// fastpath_spin_gain_p50 is the no-spin p50 over the spinning one, with
// the range of the per-round ratios.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "swift/client.h"

ABSL_FLAG(std::string, socket, "/run/swift/swiftd.sock", "swiftd's socket.");
ABSL_FLAG(int, calls, 10000, "Timed calls per kind.");
ABSL_FLAG(int, warmup, 500, "Untimed calls first.");
ABSL_FLAG(std::string, baseline_socket, "",
          "A swiftd started with --fast_path_spin=0: also time the fast-path "
          "ping with no spin on either side.");

namespace {

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

Percentiles Summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&samples](double q) {
    return samples[std::min(samples.size() - 1,
                            static_cast<size_t>(q * samples.size()))];
  };
  Percentiles result;
  result.p50 = at(0.50);
  result.p90 = at(0.90);
  result.p99 = at(0.99);
  result.max = samples.back();
  double sum = 0;
  for (double sample : samples) {
    sum += sample;
  }
  result.mean = sum / samples.size();
  return result;
}

// Times `calls` invocations of `call`; stops at the first failure.
template <typename Call>
absl::StatusOr<std::vector<double>> Time(int calls, Call call) {
  std::vector<double> samples;
  samples.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    const auto start = std::chrono::steady_clock::now();
    absl::Status status = call(i);
    const auto end = std::chrono::steady_clock::now();
    if (!status.ok()) {
      return status;
    }
    samples.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
  }
  return samples;
}

std::string Json(const std::string& prefix, const Percentiles& p) {
  return absl::StrFormat(
      "\"%s_p50_us\": %.1f, \"%s_p90_us\": %.1f, \"%s_p99_us\": %.1f, "
      "\"%s_max_us\": %.1f, \"%s_mean_us\": %.1f",
      prefix, p.p50, prefix, p.p90, prefix, p.p99, prefix, p.max, prefix,
      p.mean);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int calls = absl::GetFlag(FLAGS_calls);
  if (calls <= 0) {
    std::cerr << "control_rtt: --calls must be positive\n";
    return 2;
  }
  swift::ClientOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "control_rtt";
  auto client = swift::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "control_rtt: " << client.status().message() << "\n";
    return 1;
  }
  swift::Client& swiftd = **client;
  auto get_status = [&swiftd](int) { return swiftd.GetStatus().status(); };
  auto fast_ping = [&swiftd](int i) {
    return swiftd.Ping(i, swift::Transport::kFastPath);
  };

  if (auto warm = Time(absl::GetFlag(FLAGS_warmup), get_status); !warm.ok()) {
    std::cerr << "control_rtt: " << warm.status().message() << "\n";
    return 1;
  }
  if (!swiftd.has_fast_path()) {
    std::cerr << "control_rtt: swiftd offers no fast path\n";
    return 1;
  }
  if (auto warm = Time(absl::GetFlag(FLAGS_warmup), fast_ping); !warm.ok()) {
    std::cerr << "control_rtt: " << warm.status().message() << "\n";
    return 1;
  }
  // The no-spin baseline, when asked for.
  std::unique_ptr<swift::Client> baseline;
  if (!absl::GetFlag(FLAGS_baseline_socket).empty()) {
    swift::ClientOptions no_spin = options;
    no_spin.socket_path = absl::GetFlag(FLAGS_baseline_socket);
    no_spin.fast_path_spin = absl::ZeroDuration();
    auto connected = swift::Client::Connect(no_spin);
    if (!connected.ok() || !(*connected)->has_fast_path()) {
      std::cerr << "control_rtt: baseline swiftd: "
                << connected.status().message() << "\n";
      return 1;
    }
    baseline = *std::move(connected);
    auto warm = Time(absl::GetFlag(FLAGS_warmup), [&](int i) {
      return baseline->Ping(i, swift::Transport::kFastPath);
    });
    if (!warm.ok()) {
      std::cerr << "control_rtt: " << warm.status().message() << "\n";
      return 1;
    }
  }
  std::vector<double> no_spin_samples;
  std::vector<double> round_gains;
  // Interleaved in rounds, so that noise from the machine hits all kinds.
  std::vector<double> status_samples, grpc_samples, fast_samples;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const int per_round = std::max(1, calls / kRounds);
    for (auto [call, samples] :
         {std::make_pair(
              +[](swift::Client&c, int i) { return c.GetStatus().status(); },
              &status_samples),
          std::make_pair(
              +[](swift::Client&c, int i) {
                return c.Ping(i, swift::Transport::kGrpc);
              },
              &grpc_samples),
          std::make_pair(
              +[](swift::Client&c, int i) {
                return c.Ping(i, swift::Transport::kFastPath);
              },
              &fast_samples)}) {
      auto timed = Time(per_round, [&](int i) { return call(swiftd, i); });
      if (!timed.ok()) {
        std::cerr << "control_rtt: " << timed.status().message() << "\n";
        return 1;
      }
      samples->insert(samples->end(), timed->begin(), timed->end());
    }
    if (baseline != nullptr) {
      auto timed = Time(per_round, [&](int i) {
        return baseline->Ping(i, swift::Transport::kFastPath);
      });
      if (!timed.ok()) {
        std::cerr << "control_rtt: " << timed.status().message() << "\n";
        return 1;
      }
      no_spin_samples.insert(no_spin_samples.end(), timed->begin(),
                             timed->end());
      const std::vector<double> spun(fast_samples.end() - per_round,
                                     fast_samples.end());
      round_gains.push_back(Summarize(*timed).p50 / Summarize(spun).p50);
    }
  }
  const Percentiles fast = Summarize(fast_samples);
  const Percentiles grpc = Summarize(grpc_samples);
  std::string no_spin;
  if (!no_spin_samples.empty()) {
    const Percentiles without = Summarize(no_spin_samples);
    std::sort(round_gains.begin(), round_gains.end());
    no_spin = absl::StrFormat(
        ", %s, \"fastpath_ping_p50_us_host_no_spin\": %.1f, "
        "\"fastpath_spin_gain_p50\": %.2f, "
        "\"fastpath_spin_gain_round_min\": %.2f, "
        "\"fastpath_spin_gain_round_max\": %.2f",
        Json("ping_fastpath_no_spin", without), without.p50,
        without.p50 / fast.p50, round_gains.front(), round_gains.back());
  }
  std::cout << "{\"bench\": \"control_rtt\", \"where\": \"host\", "
            << "\"calls\": " << status_samples.size() << ", "
            << Json("get_status_grpc", Summarize(status_samples)) << ", "
            << Json("ping_grpc", grpc) << ", " << Json("ping_fastpath", fast)
            << no_spin
            << absl::StrFormat(
                   ", \"grpc_ping_p50_us_host\": %.1f, "
                   "\"fastpath_ping_p50_us_host\": %.1f, "
                   "\"fastpath_speedup_p50\": %.1f}",
                   grpc.p50, fast.p50, grpc.p50 / fast.p50)
            << std::endl;
  return 0;
}
