// FaultPairTest: the fault tests' scenery on the two "hosts" of the
// Soft-RoCE guest (tools/rxe-vm/run --hosts 2): swiftd A on rxeA and
// swiftd B on rxeB, each a separate PROCESS (tests/swiftd_process.h), so a
// test may SIGKILL and restart either; both hold one cluster secret and
// allow each other. Around them:
//   - a service in the test process, listening through either swiftd, that
//     accepts every connection and keeps it until its client closes it
//     (StartService); a function's instances and the tests' clients write
//     into its buffer;
//   - the state a fault must leave as it was: each swiftd's listings
//     (StateOf: clients, connections, handshakes, services, workers,
//     tenants' use) and the kernel's verbs objects (fault_verbs_counts.h),
//     taken by TakeBaseline() and awaited by ExpectBaseline();
//   - DataFlows(): a NEW client process connects through one swiftd to the
//     service and writes bytes, which the test reads in the service's
//     buffer: both swiftds still broker, and connections carry data.
//
// Outside the two-host guest the tests skip; inside the guest run
// (SWIFT_RDMA_REQUIRED=1) a missing second host is a failure. Not
// thread-safe, except that the service's accept thread is internal.
#ifndef SWIFT_TESTS_FAULT_SWIFTD_PAIR_H_
#define SWIFT_TESTS_FAULT_SWIFTD_PAIR_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/control/control_client.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"
#include "swift/session.h"
#include "tests/fault_processes.h"
#include "tests/fault_verbs_counts.h"
#include "tests/swiftd_process.h"
#include "tests/test_swiftd.h"

namespace swift::testing {

// One guest host and its swiftd process.
struct FaultHost {
  std::string name;    // "A" or "B", for messages.
  std::string ip;      // RXE_A_IP / RXE_B_IP.
  std::string device;  // rxeA / rxeB.
  std::string netdev;  // vethA / vethB.
  std::string socket;
  std::string peer_address;  // ip:port.
  std::string log;           // swiftd's stderr, kept across restarts.
  // More swiftd flags (a suite's constructor may add them).
  std::vector<std::string> flags;
  std::unique_ptr<SwiftdProcess> process;  // Null while not running.
  UniqueFd notify;  // systemd's notify socket, for READY=1.
  int starts = 0;
};

class FaultPairTest : public ::testing::Test {
 protected:
  // Both Peer APIs listen on `peer_port`, each on its host's IP (each test
  // binary its own port, as TwoSwiftdTest's).
  explicit FaultPairTest(int peer_port);

  // Skips (or fails, in the guest run) without two hosts; records the
  // kernel's verbs objects before any swiftd (verbs_before_swiftds_), then
  // starts swiftd A and B, ASSERTing that each serves.
  void SetUp() override;
  // Ends the service, then stops both swiftds with SIGTERM.
  void TearDown() override;

  // Starts `host`'s swiftd and waits (30 s) for its READY=1; the error
  // carries the end of its log.
  absl::Status StartSwiftd(FaultHost& host);
  // SIGKILL, reaped.
  void KillSwiftd(FaultHost& host);
  // SIGTERM; the exit status.
  int StopSwiftd(FaultHost& host);

  // A ControlClient on `host`'s swiftd that does not attach (so it is in
  // no listing); null with a failure when swiftd does not answer.
  std::unique_ptr<ControlClient> Control(const FaultHost& host);

  // What `host`'s swiftd holds, as its listings show it (root sees all):
  // attached clients, each connection (service, client name), admission
  // (in flight, queued), each service (connections, pooled QPs), each
  // worker (function, pid, state), each tenant's use. Counters of past
  // events are left out. "unreachable: ..." when swiftd does not answer.
  std::string StateOf(const FaultHost& host);

  // Both swiftds' StateOf() and the kernel's verbs objects once they stay
  // the same for a second (pools refill and spare instances fork in the
  // background after any activity; 30 s at most).
  void TakeBaseline();
  // Polls until both swiftds' state and the kernel's verbs objects equal
  // the baseline (`limit`); a failure names `what` and the differences.
  void ExpectBaseline(const std::string& what,
                      absl::Duration limit = absl::Seconds(30));
  // Polls until the kernel's verbs objects equal `expected`.
  void ExpectVerbsObjects(const VerbsCounts& expected, const std::string& what,
                          absl::Duration limit = absl::Seconds(30));

  // A session in this process on `host` that listens on `service` (backlog
  // 4) and accepts every connection on a thread of its own, keeping it
  // until its client closes it. Replaces a running one.
  absl::Status StartService(const FaultHost& host, const std::string& service);
  void StopService();
  // `length` bytes at `offset` of the service's buffer (every connection
  // advertises the session's one buffer); "" before any connection came.
  std::string ServiceBytes(size_t offset, size_t length);
  // Connections the service holds now.
  int ServiceConnections();

  // A new client process on `client_host` connects to the service on
  // `service_host` (StartService), writes a text naming `tag` at offset
  // 4096 and closes; OK once the text is in the service's buffer and the
  // client exited 0.
  absl::Status DataFlows(const FaultHost& client_host,
                         const FaultHost& service_host, const std::string& tag);

  // The flags of a fault_client in connect mode toward the service.
  std::vector<std::string> ConnectFlags(const FaultHost& client_host,
                                        const FaultHost& service_host,
                                        const std::string& service) const;

  // Declared first: files and sockets in it outlive everything.
  TempDir dir_;
  FaultHost a_;
  FaultHost b_;
  std::string service_name_;
  VerbsCounts verbs_before_swiftds_;
  std::string baseline_a_;
  std::string baseline_b_;
  VerbsCounts baseline_verbs_;

 private:
  void AcceptLoop();

  std::unique_ptr<Session> service_session_;
  std::unique_ptr<Listener> listener_;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> accepted_ ABSL_GUARDED_BY(mu_);
  const uint8_t* service_buffer_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_FAULT_SWIFTD_PAIR_H_
