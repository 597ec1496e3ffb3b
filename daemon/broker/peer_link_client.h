// PeerLinkClient: the calling side of the lean peer link (see
// peer_link_server.h) to one peer swiftd.
//
// Keeps the connections it is not using in an IdlePool (bounded and aged:
// a burst's extra connections are closed when they come back, and one
// idle past the pool's limit is dropped), so concurrent connects do not
// queue behind each other. An idle connection the peer has closed since
// (its own idle timeout, which may be shorter than this pool's) is
// dropped when taken, never sent on. With an
// authenticator, every request carries a fresh PeerCredential (see
// peer_authenticator.h; the server refuses requests without one when it
// holds the cluster's secret), and a successful answer must carry the
// server's proof (LinkResponse.mac) or is refused as kUnauthenticated (a
// process that took the peer's port is not its swiftd). Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_PEER_LINK_CLIENT_H_
#define SWIFT_DAEMON_BROKER_PEER_LINK_CLIENT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/idle_pool.h"
#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "daemon/broker/peer_authenticator.h"
#include "proto/peer.pb.h"

namespace swift {

class PeerLinkClient final {
 public:
  // Calls the link server at `address`; keeps idle connections as `pool`
  // says; signs each request with `signer` (null: sends no credential),
  // which must outlive the client.
  explicit PeerLinkClient(HostPort address,
                          IdlePool<UniqueFd>::Options pool = {},
                          const PeerAuthenticator* signer = nullptr)
      : address_(std::move(address)), idle_(pool), signer_(signer) {}
  PeerLinkClient(const PeerLinkClient&) = delete;
  PeerLinkClient& operator=(const PeerLinkClient&) = delete;

  // Call()
  //
  // Sends `request` on an idle connection (a new one when all are busy)
  // and returns the peer's answer, its error status (marked as the peer's
  // answer, see peer_answer.h), or kUnavailable / kDeadlineExceeded for
  // the transport (unmarked; the connection is then dropped).
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
      std::vector<peer::v1::LinkRequest> requests, absl::Time deadline) {
    return Collect(SendPipelined(std::move(requests), deadline));
  }
  static constexpr size_t kMaxPipelined = 64;

  // A pipelined batch sent and not read yet: it holds its connection
  // until Collect(). Only PeerLinkClient looks inside.
  class Pipeline {
   public:
    Pipeline(Pipeline&&) = default;
    Pipeline& operator=(Pipeline&&) = default;

   private:
    friend class PeerLinkClient;
    Pipeline() = default;
    std::vector<peer::v1::LinkRequest> requests;
    UniqueFd connection;
    size_t sent = 0;
    absl::Status transport;  // The send's failure, if any.
    absl::Time deadline;
  };

  // SendPipelined() and Collect()
  //
  // CallPipelined() in two halves, for a caller with something better to
  // do than wait for the answers: SendPipelined() sends the batch and
  // returns; Collect() reads the answers (waiting for them until the
  // batch's deadline at most) and gives the connection back. Answers that
  // arrive meanwhile wait in the socket and wake nobody, so a caller that
  // collects them on its next errand spares itself a wake-up.
  Pipeline SendPipelined(std::vector<peer::v1::LinkRequest> requests,
                         absl::Time deadline);
  std::vector<absl::Status> Collect(Pipeline pipeline);

  // Connections kept idle right now.
  size_t idle_count() const { return idle_.size(); }
  // Idle connections found closed by the peer when taken, and dropped.
  uint64_t idle_closed_by_peer() const { return idle_closed_by_peer_; }

 private:
  // An idle connection, or a new one, set to give up at `deadline`.
  absl::StatusOr<UniqueFd> TakeConnection(absl::Time deadline);
  // Sets `request`'s timeout and, with a signer, its credential.
  void Prepare(uint32_t timeout_ms, peer::v1::LinkRequest* request) const;
  // With a signer: OK when successful `response` proves it comes from a
  // holder of the secret and answers `request`.
  absl::Status CheckReply(const peer::v1::LinkRequest& request,
                          const peer::v1::LinkResponse& response) const;

  const HostPort address_;
  IdlePool<UniqueFd> idle_;
  std::atomic<uint64_t> idle_closed_by_peer_{0};
  const PeerAuthenticator* const signer_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_LINK_CLIENT_H_
