// cold_start_swift: libswift's cold start for `tools/bench/run cold_start`:
// a fresh process creates a Session (4 MiB registered buffer, one RC QP in
// INIT in its pool), the same end state as cold_start_raw.
//
//   cold_start_swift SOCKET DEVICE [READY_FD] [--no-hinted-providers]
//                    [--no-lease] [--serial-start]
//
// Prints ONE JSON line with Session::start_steps() ("steps_us"), main_us
// (main() to the session ready), the provider libraries mapped, whether
// the buffer is swiftd's lease (on huge pages) and the shared libraries
// the process loaded; writes one byte to READY_FD when ready (spawn_ready
// times the whole process). Exit code 0 on success, 1 with the status on
// stderr otherwise. Built twice (tools/bench/BUILD): linked as
// applications are told to for a fast start (//client:session_static) and
// against the plain //client:session, to measure the linking's share.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "swift/session.h"

namespace {

// Distinct mapped files whose path contains `what`.
int CountMapped(const char* what) {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> files;
  std::string line;
  while (std::getline(maps, line)) {
    const size_t path = line.find('/');
    if (path != std::string::npos && line.find(what, path) != std::string::npos) {
      files.insert(line.substr(path));
    }
  }
  return static_cast<int>(files.size());
}

}  // namespace

int main(int argc, char** argv) {
  const absl::Time start = absl::Now();
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s SOCKET DEVICE [READY_FD] [--no-hinted-providers] "
                 "[--no-lease] [--serial-start]\n",
                 argv[0]);
    return 2;
  }
  swift::SessionOptions options;
  options.socket_path = argv[1];
  options.device = argv[2];
  options.client_name = "cold_start_swift";
  options.buffer_bytes = 4 << 20;
  options.pool_low = 1;
  options.pool_high = 1;
  int ready_fd = -1;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-hinted-providers") == 0) {
      options.load_hinted_providers = false;
    } else if (std::strcmp(argv[i], "--no-lease") == 0) {
      options.lease_buffer = false;
    } else if (std::strcmp(argv[i], "--serial-start") == 0) {
      options.overlapped_start = false;
    } else {
      ready_fd = std::atoi(argv[i]);
    }
  }
  absl::StatusOr<std::unique_ptr<swift::Session>> session =
      swift::Session::Create(options);
  if (!session.ok()) {
    std::fprintf(stderr, "Session::Create: %s\n",
                 session.status().ToString().c_str());
    std::printf("{\"variant\":\"libswift\",\"ok\":false}\n");
    return 1;
  }
  const double main_us = absl::ToDoubleMicroseconds(absl::Now() - start);
  if (ready_fd >= 0) {
    const char byte = 'R';
    if (write(ready_fd, &byte, 1) != 1) return 1;
    close(ready_fd);
  }
  const swift::StartSteps& steps = (*session)->start_steps();
  // steps_us: the caller's thread, whose steps add up to the start;
  // beside_us: the swiftd half, on its own thread beside them.
  std::printf(
      "{\"variant\":\"libswift\",\"ok\":true,\"steps_us\":{\"providers\":%.1f,"
      "\"device_wait\":%.1f,\"open_device\":%.1f,\"alloc_pd\":%.1f,"
      "\"port\":%.1f,\"qp_pool\":%.1f,\"swiftd_wait\":%.1f,"
      "\"reg_mr\":%.1f,\"refill_start\":%.1f},"
      "\"beside_us\":{\"swiftd\":%.1f,\"memory\":%.1f},\"main_us\":%.1f,"
      "\"providers\":%d,\"providers_loaded\":%d,\"leased\":%d,"
      "\"hugepage\":%d,\"port_from_swiftd\":%d,\"shared_libraries\":%d}\n",
      steps.providers_us, steps.device_wait_us, steps.open_device_us,
      steps.alloc_pd_us, steps.port_us, steps.qp_pool_us, steps.swiftd_wait_us,
      steps.reg_mr_us, steps.refill_start_us, steps.swiftd_us, steps.memory_us,
      main_us, CountMapped("-rdmav"), steps.providers_loaded,
      steps.buffer_leased ? 1 : 0, steps.buffer_hugepage ? 1 : 0,
      steps.port_from_swiftd ? 1 : 0, CountMapped(".so"));
  if (!steps.providers_skipped_because.empty()) {
    std::fprintf(stderr, "providers not loaded ahead: %s\n",
                 steps.providers_skipped_because.c_str());
  }
  if (!steps.buffer_not_leased_because.empty()) {
    std::fprintf(stderr, "buffer not leased: %s\n",
                 steps.buffer_not_leased_because.c_str());
  }
  return 0;
}
