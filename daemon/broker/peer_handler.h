// PeerHandler: what this swiftd answers to other hosts' swiftds (the Peer
// API of proto/peer.proto: Hello, Connect, Close, Watch), with no transport in
// it. Two thin adapters carry it: PeerServiceImpl (gRPC) and
// PeerLinkServer (the lean peer link's frames).
//
// Every call checks the caller's API version; Connect and Close also check
// the incarnation the caller expects (kAborted when this swiftd restarted
// since the caller cached it; it must name one: kInvalidArgument for 0,
// which used to skip the check). Connect takes one of a local service's
// pooled QPs through the ServiceRegistry, recorded as the calling peer's:
// only that peer may Close it.
//
// Who calls (`caller`): the calling swiftd's identity as its transport
// authenticated it, its IP address (the link's TCP peer, gRPC's peer),
// which the PeerGate admitted. Not the credential: every swiftd of the
// cluster holds the same secret, so it proves membership, not identity.
//
// Thread-safe: calls run concurrently on the transports' threads.
#ifndef SWIFT_DAEMON_BROKER_PEER_HANDLER_H_
#define SWIFT_DAEMON_BROKER_PEER_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/broker/peer_allow_list.h"
#include "daemon/broker/service_registry.h"
#include "proto/peer.pb.h"

namespace swift {

class PeerHandler final {
 public:
  // `incarnation` and `address` ("ip:port" of the Peer API) name this
  // swiftd; `devices` describe this host. `registry` must outlive the
  // handler.
  PeerHandler(uint64_t incarnation, std::string address,
              std::vector<peer::v1::PeerDevice> devices,
              ServiceRegistry* registry);
  PeerHandler(const PeerHandler&) = delete;
  PeerHandler& operator=(const PeerHandler&) = delete;

  // Hello()
  //
  // Who this swiftd is: API version, incarnation, address, devices, the
  // services listening right now and the link port. kFailedPrecondition
  // for an API version outside the range this swiftd speaks.
  absl::StatusOr<peer::v1::HelloResponse> Hello(
      const peer::v1::HelloRequest& request) const;

  // Connect()
  //
  // Connects the caller's QP (request.client_endpoint) to one of
  // request.service's pooled QPs and returns that QP's endpoint, the
  // connection's id here and where the time went. kFailedPrecondition:
  // API version; kAborted: stale incarnation; kInvalidArgument: the
  // endpoint does not decode; otherwise ServiceRegistry::Accept()'s errors.
  // Blocks until the application answers, up to `deadline`.
  absl::StatusOr<peer::v1::ConnectResponse> Connect(
      const peer::v1::ConnectRequest& request, absl::Time deadline,
      const std::string& caller);

  // StartConnect()
  //
  // Connect() without waiting for the application
  // (ServiceRegistry::StartAccept()): `done` gets the answer exactly once,
  // on the thread that learns it, unless an error is returned (that error
  // is the answer). What is not answered by the returned deadline, the
  // caller expires (ExpireConnect()).
  using ConnectDone =
      std::function<void(absl::StatusOr<peer::v1::ConnectResponse>)>;
  absl::StatusOr<ServiceRegistry::StartedAccept> StartConnect(
      const peer::v1::ConnectRequest& request, absl::Time deadline,
      const std::string& caller, ConnectDone done);
  // Answers `started` kDeadlineExceeded through its `done` on this thread,
  // unless its answer was given already (false).
  bool ExpireConnect(const ServiceRegistry::StartedAccept& started) {
    return registry_->ExpireAccept(started);
  }

  // Close()
  //
  // The caller closed connection request.server_connection_id: its service
  // recycles the QP. Version and incarnation errors as Connect(); kNotFound
  // for an unknown connection; kPermissionDenied when another peer than
  // `caller` made it.
  absl::Status Close(const peer::v1::CloseRequest& request,
                     const std::string& caller);

  // Watch()
  //
  // This swiftd's incarnation, and the caller's connections the services
  // here ended on their own since it last acknowledged (ServiceRegistry's
  // closed notices). kInvalidArgument without from_incarnation or with
  // more than kMaxWatchAcks acknowledgements.
  absl::StatusOr<peer::v1::WatchResponse> Watch(
      const peer::v1::WatchRequest& request, const std::string& caller);
  // What one WatchResponse carries at most (ClosedNotices' batch), and so
  // what a WatchRequest acknowledges.
  static constexpr int kMaxWatchAcks = 1024;

  // The identity PeerHandler knows a caller at `peer` by (see above); ""
  // when the transport did not say (such callers are refused by the gate
  // before any call is served).
  static std::string CallerOf(const std::optional<IpAddress>& peer) {
    return peer.has_value() ? peer->ToString() : std::string();
  }

  // The lean link's port, announced in Hello (0: none). Set it before the
  // Peer API serves, so that every Hello announces the link.
  void set_link_port(uint16_t port) { link_port_.store(port); }
  uint64_t incarnation() const { return incarnation_; }

 private:
  // OK when the caller speaks our API version and expects this
  // incarnation, which it must name (nullopt: a Hello, which expects none).
  absl::Status CheckCaller(uint32_t api_version,
                           std::optional<uint64_t> expected_incarnation) const;
  // What Connect() checks before it takes a QP: the caller, and its
  // endpoint (returned decoded).
  absl::StatusOr<verbs::QpEndpoint> PrepareConnect(
      const peer::v1::ConnectRequest& request, const std::string& caller);
  // The answer to a connect the application accepted; `start` is when the
  // request came.
  peer::v1::ConnectResponse ResponseFor(
      const ServiceRegistry::Accepted& accepted, absl::Time start) const;

  const uint64_t incarnation_;
  const std::string address_;
  const std::vector<peer::v1::PeerDevice> devices_;
  ServiceRegistry* const registry_;
  std::atomic<uint16_t> link_port_{0};
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_HANDLER_H_
