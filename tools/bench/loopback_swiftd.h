// LoopbackSwiftd: a swiftd that brokers with itself on loopback, and a fake
// service behind it, for the host benchmarks of swiftd's own cost
// (scrape_cost, connect_cost).
//
// The swiftd plays both ends of every brokered connect: the client's swiftd
// and, over its own peer link on 127.0.0.1, the service's. The service is a
// raw SERVICE channel with fake endpoints (no RDMA device: swiftd never
// touches a QP, it carries their metadata) whose accepts a thread answers.
// So the CPU swiftd spends per connect is the control plane's whole work
// for one connect, both hosts' share, with none of the application's. The
// link is authenticated with a peer secret, as a cluster deploys it.
#ifndef SWIFT_TOOLS_BENCH_LOOPBACK_SWIFTD_H_
#define SWIFT_TOOLS_BENCH_LOOPBACK_SWIFTD_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/seqpacket_socket.h"
#include "tests/raw_fast_path.h"

namespace swift::bench {

class LoopbackSwiftd final {
 public:
  // Start()
  //
  // Starts `binary` with `extra_flags` (its log in a scratch directory),
  // waits for it to serve, and opens service `service` with `endpoints`
  // fake endpoints pooled (swiftd keeps up to `endpoints` + 16).
  static absl::StatusOr<std::unique_ptr<LoopbackSwiftd>> Start(
      const std::string& binary, const std::string& service, int endpoints,
      const std::vector<std::string>& extra_flags = {});
  LoopbackSwiftd(const LoopbackSwiftd&) = delete;
  LoopbackSwiftd& operator=(const LoopbackSwiftd&) = delete;
  // Stops swiftd (SIGTERM, reaped) and the acceptor.
  ~LoopbackSwiftd();

  pid_t pid() const { return pid_; }
  uint16_t metrics_port() const { return metrics_port_; }
  // The fast path's socket, for clients.
  const std::string& fast_path() const { return fast_path_; }

  // AddEndpoints(): `count` more fake endpoints for the service.
  absl::Status AddEndpoints(int count);

 private:
  LoopbackSwiftd() = default;

  pid_t pid_ = -1;
  uint16_t metrics_port_ = 0;
  std::string dir_;
  std::string fast_path_;
  uint32_t next_qpn_ = 0x100;
  std::unique_ptr<SeqpacketSocket> service_;
  // Declared last: stopped first (it shuts the service channel down).
  std::unique_ptr<testing::RawAcceptor> acceptor_;
};

}  // namespace swift::bench

#endif  // SWIFT_TOOLS_BENCH_LOOPBACK_SWIFTD_H_
