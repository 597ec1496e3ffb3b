// lease_holder: a client process for the lease tests (issue 11). Takes
// COUNT leases of BYTES from the swiftd whose fast path socket is PATH,
// writes into each (proving the mapping works), prints "ready" and the
// lease ids on one line, then waits to be killed (the test SIGKILLs it
// and checks that swiftd reclaims everything).
//
//   lease_holder PATH COUNT BYTES
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "client/fast_path_client.h"
#include "client/lease.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: lease_holder PATH COUNT BYTES\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<swift::FastPathClient>> fast_path =
      swift::FastPathClient::Connect(argv[1], "lease_holder");
  if (!fast_path.ok()) {
    std::fprintf(stderr, "connect: %s\n",
                 fast_path.status().ToString().c_str());
    return 1;
  }
  const int count = std::atoi(argv[2]);
  const uint64_t bytes = std::strtoull(argv[3], nullptr, 10);
  std::vector<swift::LeasedMemory> leases;
  std::printf("ready");
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<swift::LeasedMemory> lease =
        swift::LeasedMemory::Take(fast_path->get(), bytes);
    if (!lease.ok()) {
      std::fprintf(stderr, "lease: %s\n", lease.status().ToString().c_str());
      return 1;
    }
    std::memset(lease->data(), 0xab, lease->size());
    std::printf(" %llu", static_cast<unsigned long long>(lease->lease_id()));
    leases.push_back(*std::move(lease));
  }
  std::printf("\n");
  std::fflush(stdout);
  while (true) {
    pause();
  }
}
