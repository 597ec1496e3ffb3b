// PeerLinkServer: the serving side of the lean peer link, Connect and
// Close between swiftds as frames on kept-open TCP connections
// (proto/peer.proto LinkRequest/LinkResponse), beside the gRPC Peer API,
// whose per-call cost (about 0.15 ms on a host, over 5 ms under emulation)
// would otherwise dominate a brokered connect.
//
// A thin adapter over PeerHandler on the ConnectionServer skeleton: one
// thread per peer connection, answering each frame in order. A frame that
// is not a LinkRequest is answered with kInvalidArgument and ends its
// connection (the stream cannot be trusted after it). Every request must
// pass the PeerGate first (the connection's address in the allow-list, the
// frame's credential valid and fresh, issue 10 finding 4): a refused one
// is answered with kPermissionDenied or kUnauthenticated and ends its
// connection too. Thread-safe.
//
// Bounded (PeerLinkLimits): connections at once, descriptors kept in
// reserve (a refused connection is answered with kResourceExhausted naming
// the flag, then closed), and deadlines: a new connection must send a
// frame within hello_timeout, an idle one is closed after idle_timeout,
// and a frame once begun must be complete within io_timeout.
#ifndef SWIFT_DAEMON_BROKER_PEER_LINK_SERVER_H_
#define SWIFT_DAEMON_BROKER_PEER_LINK_SERVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/connection_server.h"
#include "common/fd_limits.h"
#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "daemon/broker/peer_allow_list.h"
#include "daemon/broker/peer_gate.h"
#include "daemon/broker/peer_handler.h"
#include "daemon/broker/service_registry.h"
#include "proto/peer.pb.h"

namespace swift {

// What one swiftd allows on its peer link (issue 10: anyone who reaches
// the port could otherwise take every thread swiftd may start).
struct PeerLinkLimits {
  // Connections served at once (--max_peer_link_connections).
  int max_connections = 256;
  // Refuse while fewer descriptors than this would remain free.
  int fd_reserve = kDefaultFdReserve;
  // A new connection's first frame is due within this.
  absl::Duration hello_timeout = absl::Seconds(10);
  // An idle connection is closed after this (--peer_link_idle_timeout).
  // Longer than the calling side keeps idle connections (IdlePool's 60 s)
  // by default, so that peers rarely hold one this side closed; when it is
  // shorter, the caller drops such a connection when it takes it
  // (PeerLinkClient).
  absl::Duration idle_timeout = absl::Seconds(120);
  // A frame once begun, and a send, must complete within this.
  absl::Duration io_timeout = absl::Seconds(10);
};

class PeerLinkServer final {
 public:
  // Start()
  //
  // Listens on `address`'s IP and any free port (see port()) and answers
  // through `handler` the requests `gate` admits; both must outlive the
  // server. Errors carry errno.
  static absl::StatusOr<std::unique_ptr<PeerLinkServer>> Start(
      const HostPort& address, PeerHandler* handler, PeerGate* gate,
      const PeerLinkLimits& limits = PeerLinkLimits());
  PeerLinkServer(const PeerLinkServer&) = delete;
  PeerLinkServer& operator=(const PeerLinkServer&) = delete;
  // Shutdown().
  ~PeerLinkServer();

  uint16_t port() const { return port_; }

  // Shutdown()
  //
  // Stops accepting, ends every connection, waits for their threads.
  // Idempotent.
  void Shutdown();

  // The peer connections being served right now.
  int connection_count() const { return server_->connection_count(); }
  // What the accept loop did (refusals included).
  ConnectionServer::Counters counters() const { return server_->counters(); }

 private:
  PeerLinkServer(UniqueFd listener, uint16_t port, PeerHandler* handler,
                 PeerGate* gate, const PeerLinkLimits& limits)
      : listener_(std::move(listener)),
        port_(port),
        handler_(handler),
        gate_(gate),
        limits_(limits) {}
  // The answer to one connect, sent by the thread that learns the
  // application's (PeerHandler::StartConnect()) while the link thread
  // reads on. Thread-safe.
  class LinkAnswer final {
   public:
    // How long a send may wait for a peer that stopped reading.
    static constexpr absl::Duration kSendBound = absl::Milliseconds(100);

    explicit LinkAnswer(int fd);
    // Sends `response` on the connection (once); a peer that does not take
    // it within kSendBound loses the connection.
    void Send(const peer::v1::LinkResponse& response);
    // Whether the answer went, once Send() ran; nullopt at `deadline`
    // before.
    std::optional<bool> WaitUntil(absl::Time deadline);

   private:
    const int fd_;
    absl::Mutex mu_;
    std::optional<bool> sent_ ABSL_GUARDED_BY(mu_);
  };
  struct InFlightConnect {
    std::shared_ptr<LinkAnswer> answer;
    ServiceRegistry::StartedAccept started;
  };

  void Serve(UniqueFd connection);
  // Answers a refused connection with `why`; never blocks.
  static void Refuse(int connection, const absl::Status& why);
  // Whether `peer` may make `request` (its kind named in `method`).
  absl::Status Admit(const peer::v1::LinkRequest& request,
                     const std::optional<IpAddress>& peer, const char** method);
  // The answer to an admitted Close or Watch `request` from `peer`.
  void Answer(const peer::v1::LinkRequest& request,
              const std::optional<IpAddress>& peer, const char* method,
              peer::v1::LinkResponse* response);
  // Starts an admitted Connect; `answer` sends its outcome, unless an
  // error is returned (the answer then).
  absl::StatusOr<ServiceRegistry::StartedAccept> StartConnect(
      const peer::v1::LinkRequest& request,
      const std::optional<IpAddress>& peer, const char* method,
      std::shared_ptr<LinkAnswer> answer);
  // Waits for `connect`'s answer to go, expiring it at its deadline;
  // false when the peer did not take it (the connection must end).
  bool Settle(const InFlightConnect& connect);
  // Sets `status` in `response`, with the MAC that proves an answer's
  // origin when the link is secure (`nonce`: the request's).
  void Seal(const absl::Status& status, const char* method,
            const std::string& nonce, peer::v1::LinkResponse* response) const;

  // Declared before server_: it must outlive the accept loop.
  UniqueFd listener_;
  const uint16_t port_;
  PeerHandler* const handler_;
  PeerGate* const gate_;
  const PeerLinkLimits limits_;
  std::unique_ptr<ConnectionServer> server_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_LINK_SERVER_H_
