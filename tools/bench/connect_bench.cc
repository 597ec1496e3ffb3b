// connect_bench: time to a brokered, verified RC connection with Swift.
//
//   connect_bench --role=server --socket=A.sock --service=bench
//   connect_bench --role=client --socket=B.sock --host=IP:PORT
//       --service=bench --threads=4 --connections=50
//
// Server: a libswift Session listening on `service`; accepted connections
// are kept until their client closes them. Runs until SIGTERM/SIGINT.
// Client: `threads` threads each make `connections` connections one after
// another; each one is Connect(), one RDMA WRITE of 64 B into the server's
// buffer, an RDMA READ of the same bytes back (proof they landed), then
// Close(). Prints one JSON line: latency percentiles of connect-to-verified
// (us), connections per second, and failures by status code. With
// --storm_deadline_s the connects run with that deadline and a watchdog
// counts any still running after it ("stuck").
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
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

constexpr size_t kPayload = 64;

absl::Status PostAndPoll(swift::Connection& connection, ibv_wr_opcode opcode,
                         size_t local_offset, size_t remote_offset) {
  ibv_sge sge = {reinterpret_cast<uint64_t>(connection.buffer() + local_offset),
                 static_cast<uint32_t>(kPayload), connection.mr()->lkey};
  ibv_send_wr wr = {};
  wr.wr_id = opcode;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = opcode;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.wr.rdma.remote_addr = connection.remote().addr + remote_offset;
  wr.wr.rdma.rkey = connection.remote().rkey;
  ibv_send_wr* bad = nullptr;
  if (int rc = ibv_post_send(connection.qp(), &wr, &bad); rc != 0) {
    return absl::InternalError(absl::StrCat("ibv_post_send: ", strerror(rc)));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  ibv_wc wc;
  while (absl::Now() < deadline) {
    int polled = ibv_poll_cq(connection.cq(), 1, &wc);
    if (polled < 0) {
      return absl::InternalError("ibv_poll_cq failed");
    }
    if (polled == 1) {
      return wc.status == IBV_WC_SUCCESS
                 ? absl::OkStatus()
                 : absl::DataLossError(ibv_wc_status_str(wc.status));
    }
  }
  return absl::DeadlineExceededError("no completion within 10 s");
}

// One connection: connect, write, read back, compare, close.
absl::Status OneConnection(swift::Session& session, int thread, int index,
                           absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<swift::Connection>> connection =
      session.Connect(absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_service),
                      timeout);
  if (!connection.ok()) {
    return connection.status();
  }
  swift::Connection& c = **connection;
  // Each thread owns a slice of both buffers.
  const size_t slot = static_cast<size_t>(thread) * 2 * kPayload;
  if (slot + 2 * kPayload > c.buffer_size() ||
      slot + kPayload > c.remote().length) {
    return absl::InvalidArgumentError("buffers too small for the threads");
  }
  char* out = reinterpret_cast<char*>(c.buffer() + slot);
  std::memset(out, 'a' + (index % 26), kPayload);
  std::snprintf(out, kPayload, "t%d-c%d", thread, index);
  std::memset(c.buffer() + slot + kPayload, 0, kPayload);
  if (absl::Status write = PostAndPoll(c, IBV_WR_RDMA_WRITE, slot, slot);
      !write.ok()) {
    return write;
  }
  if (absl::Status read =
          PostAndPoll(c, IBV_WR_RDMA_READ, slot + kPayload, slot);
      !read.ok()) {
    return read;
  }
  if (std::memcmp(out, c.buffer() + slot + kPayload, kPayload) != 0) {
    return absl::DataLossError("read-back differs from what was written");
  }
  return c.Close();
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

int RunClient() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int per_thread = absl::GetFlag(FLAGS_connections);
  const int storm_s = absl::GetFlag(FLAGS_storm_deadline_s);
  if (threads < 1 || per_thread < 1 || absl::GetFlag(FLAGS_host).empty()) {
    std::cerr << "connect_bench: --host, --threads >= 1, --connections >= 1\n";
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
    if (absl::Status warm = OneConnection(**session, 0, i, timeout);
        !warm.ok()) {
      std::cerr << "connect_bench warm-up: " << warm << "\n";
      return 1;
    }
  }

  std::mutex mu;
  std::vector<double> latencies_us;
  std::map<std::string, int> failures;
  std::atomic<int> running{threads};
  std::atomic<int> in_connect{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        ++in_connect;
        const auto begin = std::chrono::steady_clock::now();
        absl::Status status = OneConnection(**session, t, i, timeout);
        const auto end = std::chrono::steady_clock::now();
        --in_connect;
        std::lock_guard<std::mutex> lock(mu);
        if (status.ok()) {
          latencies_us.push_back(
              std::chrono::duration<double, std::micro>(end - begin).count());
        } else {
          ++failures[absl::StatusCodeToString(status.code())];
        }
      }
      --running;
    });
  }
  // The watchdog: anything still inside a connect well past its deadline
  // is stuck.
  int stuck = 0;
  if (storm_s > 0) {
    const auto limit = start + std::chrono::seconds(storm_s * per_thread + 30);
    while (running > 0 && std::chrono::steady_clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stuck = running > 0 ? in_connect.load() : 0;
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
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::lock_guard<std::mutex> lock(mu);
  std::sort(latencies_us.begin(), latencies_us.end());
  auto at = [&](double q) {
    return latencies_us.empty()
               ? 0.0
               : latencies_us[std::min(
                     latencies_us.size() - 1,
                     static_cast<size_t>(q * latencies_us.size()))];
  };
  int failed = 0;
  std::vector<std::string> reasons;
  for (const auto& [reason, count] : failures) {
    failed += count;
    reasons.push_back(absl::StrFormat("\"%s\": %d", reason, count));
  }
  const swift::PoolStats pool = (*session)->pool_stats();
  std::cout << absl::StrFormat(
                   "{\"bench\": \"connect_bench\", \"threads\": %d, "
                   "\"total\": %d, \"ok\": %d, \"failed\": %d, "
                   "\"failed_by_reason\": {%s}, \"stuck\": %d, "
                   "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, "
                   "\"min_us\": %.1f, \"wall_s\": %.3f, \"conn_per_s\": %.1f, "
                   "\"pool_hits\": %d, \"pool_misses\": %d, "
                   "\"pool_recycled\": %d}",
                   threads, threads * per_thread,
                   static_cast<int>(latencies_us.size()), failed,
                   absl::StrJoin(reasons, ", "), stuck, at(0.5), at(0.9),
                   at(0.99), latencies_us.empty() ? 0.0 : latencies_us.front(),
                   wall_s, latencies_us.size() / wall_s,
                   static_cast<int>(pool.hits), static_cast<int>(pool.misses),
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
