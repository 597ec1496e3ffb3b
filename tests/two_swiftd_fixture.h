// TwoSwiftdTest: the fixture of the tests that span the two "hosts" of the
// Soft-RoCE guest (tools/rxe-vm/run --hosts 2): swiftd A on rxeA and swiftd
// B on rxeB, both in the test process, each with its own sockets and Peer
// API address, so that connections they broker cross the veth wire. Both
// hold the same cluster secret and allow each other's IP (and no other
// host) as peers.
//
// Outside the two-host guest the tests skip; inside the guest run
// (SWIFT_RDMA_REQUIRED=1) a missing second host is a failure. Not
// thread-safe: used from the test's thread.
#ifndef SWIFT_TESTS_TWO_SWIFTD_FIXTURE_H_
#define SWIFT_TESTS_TWO_SWIFTD_FIXTURE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "daemon/swiftd_server.h"
#include "gtest/gtest.h"
#include "swift/session.h"
#include "tests/test_swiftd.h"

namespace swift::testing {

// One guest host's swiftd.
struct SwiftdHost {
  // The host's IP (RXE_A_IP, RXE_B_IP).
  std::string ip;
  // What SetUp() starts swiftd with. A suite's constructor may change it
  // (peers, worker_binary, socket mode and group, timeouts); the socket,
  // device and Peer API address are set.
  SwiftdOptions options;
  // Null until SetUp() started it (or when it failed to start).
  std::unique_ptr<SwiftdServer> swiftd;

  const std::string& socket() const { return options.socket_path; }
  const std::string& peer_address() const { return options.peer_address; }
};

class TwoSwiftdTest : public ::testing::Test {
 protected:
  // Both Peer APIs listen on `peer_port` (each on its own host's IP). Each
  // test binary uses its own port, so that no connection a previous binary
  // left behind in the guest meets the next one's swiftds.
  explicit TwoSwiftdTest(int peer_port);

  // Skips (or fails, inside the guest run) without two hosts; starts swiftd
  // A, then swiftd B, ASSERTing that each started. A suite's SetUp() calls
  // this first and returns if IsSkipped() or HasFatalFailure().
  void SetUp() override;

  // A libswift session on `host`'s swiftd with a small QP pool and an
  // 8 KiB buffer unless told otherwise; null (with a test failure) when it
  // cannot be created.
  std::unique_ptr<Session> SessionOn(const SwiftdHost& host, int pool_low = 2,
                                     int pool_high = 4,
                                     size_t buffer_bytes = 8192);

  // Declared first: the sockets in it outlive both swiftds.
  TempDir dir_;
  SwiftdHost a_;
  SwiftdHost b_;
};

// Copies `bytes` to `connection`'s buffer at `local_offset` and writes
// them to the remote buffer at `remote_offset` (one signaled RDMA WRITE,
// waited for up to 10 s). Threads writing at once use distinct
// `local_offset`s: a session's connections share its buffer.
absl::Status WriteTo(Connection& connection, const std::string& bytes,
                     size_t remote_offset, size_t local_offset = 0);

}  // namespace swift::testing

#endif  // SWIFT_TESTS_TWO_SWIFTD_FIXTURE_H_
