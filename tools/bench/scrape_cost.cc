// scrape_cost: what Prometheus scraping swiftd's /metrics every second
// costs swiftd with many brokered connections open (issue 15's goal: under
// 1% of a core with 1,000 connections), for `tools/bench/run scrape`.
//
//   scrape_cost --swiftd=PATH [--connections=1000] [--window_s=30]
//               [--rounds=3] [--interval_ms=1000]
//
// Runs on the host: a swiftd brokering with itself on loopback, a service
// with fake endpoints answered by a raw SERVICE channel (no RDMA device is
// needed: /metrics reads swiftd's registries, not the NIC), then
// `connections` connects held open. Each round measures swiftd's CPU
// (utime + stime from /proc) over a window without scrapes and over one
// with a scrape every `interval_ms`, the order alternating by round. Prints
// one JSON line per window and the summary last: the extra CPU as percent
// of one core (median, min, max over the rounds), the scrape's latency and
// size, and whether the goal is met.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "common/unique_fd.h"
#include "tests/raw_fast_path.h"
#include "tools/bench/loopback_swiftd.h"
#include "tools/bench/median.h"
#include "tools/bench/overhead_cpu.h"

ABSL_FLAG(std::string, swiftd, "", "The swiftd binary.");
ABSL_FLAG(int, connections, 1000, "Brokered connections held open.");
ABSL_FLAG(int, window_s, 30, "Seconds per measured window.");
ABSL_FLAG(int, rounds, 3, "Rounds of (idle, scraped) windows.");
ABSL_FLAG(int, interval_ms, 1000, "Time between two scrapes.");

namespace swift::bench {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "scrape_cost: %s\n", what.c_str());
  std::exit(1);
}

// GET /metrics over HTTP/1.0; the body's size in bytes, -1 on failure.
long Scrape(uint16_t port) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
              sizeof(address)) != 0) {
    return -1;
  }
  const std::string request =
      "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return -1;
  }
  std::string answer;
  char buffer[65536];
  ssize_t n;
  while ((n = recv(fd.get(), buffer, sizeof(buffer), 0)) > 0) {
    answer.append(buffer, n);
  }
  const size_t body = answer.find("\r\n\r\n");
  if (answer.rfind("HTTP/1.", 0) != 0 ||
      answer.find(" 200 ") == std::string::npos || body == std::string::npos) {
    return -1;
  }
  return static_cast<long>(answer.size() - body - 4);
}

struct Window {
  double cpu_pct = 0;  // swiftd's CPU over the window, % of one core.
  int scrapes = 0;
  double scrape_ms_median = 0;
  long bytes = 0;
};

Window Measure(pid_t swiftd, uint16_t port, bool scrape, absl::Duration length,
               absl::Duration interval) {
  Window window;
  std::vector<double> latencies;
  absl::StatusOr<double> before = ReadProcessCpu(swiftd);
  const absl::Time start = absl::Now();
  const absl::Time end = start + length;
  absl::Time next = start;
  while (absl::Now() < end) {
    if (scrape) {
      const absl::Time begun = absl::Now();
      const long bytes = Scrape(port);
      if (bytes < 0) Die("a scrape of /metrics failed");
      latencies.push_back(absl::ToDoubleMilliseconds(absl::Now() - begun));
      window.bytes = bytes;
      ++window.scrapes;
    }
    next += interval;
    absl::SleepFor(std::min(next, end) - absl::Now());
  }
  absl::StatusOr<double> after = ReadProcessCpu(swiftd);
  if (!before.ok() || !after.ok()) Die("cannot read swiftd's CPU time");
  window.cpu_pct =
      100 * (*after - *before) / absl::ToDoubleSeconds(absl::Now() - start);
  window.scrape_ms_median = latencies.empty() ? 0 : Median(latencies);
  return window;
}

int Run() {
  const std::string binary = absl::GetFlag(FLAGS_swiftd);
  const int connections = absl::GetFlag(FLAGS_connections);
  if (binary.empty() || connections < 1)
    Die("give --swiftd and --connections >= 1");
  absl::StatusOr<std::unique_ptr<LoopbackSwiftd>> loopback =
      LoopbackSwiftd::Start(binary, "scraped", connections);
  if (!loopback.ok()) Die(loopback.status().ToString());
  const pid_t swiftd = (*loopback)->pid();
  const uint16_t metrics_port = (*loopback)->metrics_port();
  const std::string& fast_path = (*loopback)->fast_path();
  absl::StatusOr<SeqpacketSocket> calls =
      testing::OpenRaw(fast_path, "scrape_cost", v1::FastHello::CALLS);
  if (!calls.ok()) Die(calls.status().ToString());
  for (int i = 0; i < connections; ++i) {
    absl::StatusOr<v1::FastResponse> connected = testing::RawCall(
        *calls, testing::RawConnectRequest("scraped", absl::Seconds(20)));
    if (!connected.ok()) {
      Die(absl::StrCat("connect ", i, ": ", connected.status().ToString()));
    }
  }
  absl::SleepFor(absl::Seconds(2));  // Let the connects' work settle.

  const absl::Duration length = absl::Seconds(absl::GetFlag(FLAGS_window_s));
  const absl::Duration interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_interval_ms));
  std::vector<double> extra, idle_pct, scraped_pct, latency;
  long bytes = 0;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    Window idle, scraped;
    // Alternate which window comes first, so that a drift of the machine's
    // load does not favour one.
    for (int turn = 0; turn < 2; ++turn) {
      const bool scrape = (turn == 0) == (round % 2 == 1);
      Window window = Measure(swiftd, metrics_port, scrape, length, interval);
      std::printf(
          "{\"kind\":\"window\",\"round\":%d,\"scraped\":%s,\"cpu_pct\":%.3f,"
          "\"scrapes\":%d,\"scrape_ms_median\":%.2f,\"bytes\":%ld}\n",
          round, scrape ? "true" : "false", window.cpu_pct, window.scrapes,
          window.scrape_ms_median, window.bytes);
      std::fflush(stdout);
      (scrape ? scraped : idle) = window;
    }
    idle_pct.push_back(idle.cpu_pct);
    scraped_pct.push_back(scraped.cpu_pct);
    extra.push_back(scraped.cpu_pct - idle.cpu_pct);
    latency.push_back(scraped.scrape_ms_median);
    bytes = scraped.bytes;
  }
  loopback->reset();
  const double median = Median(extra);
  std::printf(
      "{\"kind\":\"summary\",\"bench\":\"scrape\",\"connections_open\":%d,"
      "\"scrape_interval_ms\":%d,\"window_s\":%d,\"rounds\":%zu,"
      "\"scrape_cpu_pct_of_core\":%.3f,\"scrape_cpu_pct_of_core_min\":%.3f,"
      "\"scrape_cpu_pct_of_core_max\":%.3f,\"swiftd_cpu_pct_idle\":%.3f,"
      "\"swiftd_cpu_pct_scraped\":%.3f,\"scrape_ms_median\":%.2f,"
      "\"metrics_bytes\":%ld,\"goal_pct\":1.0,\"goal_met\":%s}\n",
      connections, absl::GetFlag(FLAGS_interval_ms),
      absl::GetFlag(FLAGS_window_s), extra.size(), median,
      *std::min_element(extra.begin(), extra.end()),
      *std::max_element(extra.begin(), extra.end()), Median(idle_pct),
      Median(scraped_pct), Median(latency), bytes,
      median < 1.0 ? "true" : "false");
  return 0;
}

}  // namespace
}  // namespace swift::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return swift::bench::Run();
}
