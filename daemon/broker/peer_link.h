// The lean peer link: Connect and Close between swiftds as frames on kept-
// open TCP connections (proto/peer.proto LinkRequest/LinkResponse), beside
// the gRPC Peer API, whose per-call cost (about 0.15 ms on a host, over
// 5 ms under emulation) would otherwise dominate a brokered connect.
//
// PeerLinkServer: one thread per peer connection, answering through
// PeerServiceImpl. PeerLinkClient: an idle-connection pool per peer, so
// concurrent connects do not queue behind each other. Both thread-safe.
#ifndef SWIFT_DAEMON_BROKER_PEER_LINK_H_
#define SWIFT_DAEMON_BROKER_PEER_LINK_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "daemon/broker/peer_service.h"
#include "proto/peer.pb.h"

namespace swift {

class PeerLinkServer final {
 public:
  // Start()
  //
  // Listens on `address`'s IP and any free port (see port()) and answers
  // through `service`, which must outlive the server. Errors carry errno.
  static absl::StatusOr<std::unique_ptr<PeerLinkServer>> Start(
      const HostPort& address, PeerServiceImpl* service);
  PeerLinkServer(const PeerLinkServer&) = delete;
  PeerLinkServer& operator=(const PeerLinkServer&) = delete;
  ~PeerLinkServer();

  uint16_t port() const { return port_; }

  // Stops accepting, ends every connection, waits for their threads.
  void Shutdown();

 private:
  PeerLinkServer(UniqueFd listener, uint16_t port, PeerServiceImpl* service)
      : listener_(std::move(listener)), port_(port), service_(service) {}
  void AcceptLoop();
  void Serve(UniqueFd connection);
  peer::v1::LinkResponse Answer(const peer::v1::LinkRequest& request);

  UniqueFd listener_;
  const uint16_t port_;
  PeerServiceImpl* const service_;
  std::thread accept_thread_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<int> connections_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

class PeerLinkClient final {
 public:
  explicit PeerLinkClient(HostPort address) : address_(std::move(address)) {}
  PeerLinkClient(const PeerLinkClient&) = delete;
  PeerLinkClient& operator=(const PeerLinkClient&) = delete;

  // Call()
  //
  // Sends `request` on an idle connection (a new one when all are busy)
  // and returns the peer's answer, its error status, or kUnavailable /
  // kDeadlineExceeded for the transport (the connection is then dropped).
  absl::StatusOr<peer::v1::LinkResponse> Call(peer::v1::LinkRequest request,
                                              absl::Time deadline);

  // CallPipelined()
  //
  // Sends all of `requests` on one connection before reading any answer
  // (the server answers a connection's frames in order), so a batch costs
  // about one round trip and one wake-up instead of one each. Returns one
  // status per request, in order: the peer's answer, or the transport error
  // (for every request left unanswered; the connection is then dropped).
  // Keep batches small (kMaxPipelined): nothing is read until all is sent.
  std::vector<absl::Status> CallPipelined(
      std::vector<peer::v1::LinkRequest> requests, absl::Time deadline);
  static constexpr size_t kMaxPipelined = 64;

 private:
  // An idle connection, or a new one, set to give up at `deadline`.
  absl::StatusOr<UniqueFd> TakeConnection(absl::Time deadline);
  void ReturnConnection(UniqueFd connection);

  const HostPort address_;
  absl::Mutex mu_;
  std::vector<UniqueFd> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_LINK_H_
