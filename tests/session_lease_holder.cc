// session_lease_holder: a client process for session_lease_rdma_test
// (issue 11). Creates a libswift Session on the swiftd at SOCKET (its
// registered buffer is a lease when swiftd grants one), prints
// "ready <buffer_leased 0|1> <lease id>" on one line, then
// waits to be killed (the test SIGKILLs it and checks that swiftd
// reclaims the lease).
//
//   session_lease_holder SOCKET BUFFER_BYTES
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "swift/session.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: session_lease_holder SOCKET BUFFER_BYTES\n");
    return 2;
  }
  swift::SessionOptions options;
  options.socket_path = argv[1];
  options.client_name = "session_lease_holder";
  options.buffer_bytes = std::strtoull(argv[2], nullptr, 10);
  options.pool_low = 1;
  options.pool_high = 1;
  absl::StatusOr<std::unique_ptr<swift::Session>> session =
      swift::Session::Create(options);
  if (!session.ok()) {
    std::fprintf(stderr, "Session::Create: %s\n",
                 session.status().ToString().c_str());
    return 1;
  }
  const swift::StartSteps& steps = (*session)->start_steps();
  std::printf("ready %d %llu\n", steps.buffer_leased ? 1 : 0,
              static_cast<unsigned long long>(steps.buffer_lease_id));
  std::fflush(stdout);
  while (true) pause();
}
