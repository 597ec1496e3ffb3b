// PeerLinkServer implementation; see peer_link_server.h.
#include "daemon/broker/peer_link_server.h"

#include <sys/socket.h>

#include <string>
#include <utility>

#include "common/frame_io.h"
#include "daemon/broker/defaults.h"
#include "daemon/broker/peer_authenticator.h"
#include "glog/logging.h"
#include "proto/wire_status.h"

namespace swift {

absl::StatusOr<std::unique_ptr<PeerLinkServer>> PeerLinkServer::Start(
    const HostPort& address, PeerHandler* handler, PeerGate* gate,
    const PeerLinkLimits& limits) {
  HostPort any_port = address;
  any_port.port = 0;
  absl::StatusOr<UniqueFd> listener = ListenTcp(any_port);
  if (!listener.ok()) {
    return listener.status();
  }
  absl::StatusOr<uint16_t> port = LocalPort(listener->get());
  if (!port.ok()) {
    return port.status();
  }
  std::unique_ptr<PeerLinkServer> server(
      new PeerLinkServer(*std::move(listener), *port, handler, gate, limits));
  ConnectionServer::Options options;
  options.name = "Peer link";
  options.max_connections = limits.max_connections;
  options.max_connections_setting = "--max_peer_link_connections";
  options.fd_reserve = limits.fd_reserve;
  server->server_ = ConnectionServer::Start(
      server->listener_.get(), options,
      [raw = server.get()](UniqueFd connection, uint64_t) {
        raw->Serve(std::move(connection));
      },
      &PeerLinkServer::Refuse);
  return server;
}

void PeerLinkServer::Refuse(int connection, const absl::Status& why) {
  // The peer reads this as the answer to its first request. The socket is
  // non-blocking and its send buffer empty: the frame goes at once. Then
  // the peer reads the end of the stream (the skeleton closes the socket
  // a moment later, after the peer had time to send its request).
  peer::v1::LinkResponse refusal;
  EncodeStatus(why, &refusal);
  if (SendFrame(connection, refusal.SerializeAsString()).ok()) {
    shutdown(connection, SHUT_WR);
  }
}

PeerLinkServer::~PeerLinkServer() { Shutdown(); }

void PeerLinkServer::Shutdown() { server_->Shutdown(); }

bool PeerLinkServer::Answer(const peer::v1::LinkRequest& request,
                            const std::optional<IpAddress>& peer,
                            peer::v1::LinkResponse* response) {
  const char* method = "";
  const google::protobuf::Message* call = LinkCall(request, &method);
  if (call != nullptr) {
    if (absl::Status admitted = gate_->Admit(
            method, *call,
            request.has_credential() ? &request.credential() : nullptr, peer);
        !admitted.ok()) {
      EncodeStatus(admitted, response);
      return false;
    }
  }
  absl::Status status;
  if (request.has_connect()) {
    const absl::Time deadline =
        absl::Now() + (request.timeout_ms() > 0
                           ? absl::Milliseconds(request.timeout_ms())
                           : kDefaultHandshakeTimeout);
    absl::StatusOr<peer::v1::ConnectResponse> connected =
        handler_->Connect(request.connect(), deadline,
                          PeerHandler::CallerOf(peer));
    status = connected.status();
    if (connected.ok()) {
      *response->mutable_connect() = *std::move(connected);
    }
  } else if (request.has_close()) {
    status = handler_->Close(request.close(), PeerHandler::CallerOf(peer));
    if (status.ok()) {
      response->mutable_close();
    }
  } else if (request.has_watch()) {
    absl::StatusOr<peer::v1::WatchResponse> watched =
        handler_->Watch(request.watch(), PeerHandler::CallerOf(peer));
    status = watched.status();
    if (watched.ok()) {
      *response->mutable_watch() = *std::move(watched);
    }
  } else {
    status = absl::UnimplementedError("unknown peer link call");
  }
  EncodeStatus(status, response);
  if (status.ok() && gate_->secure() && LinkResult(*response) != nullptr) {
    // Our proof to the caller: this answer comes from its cluster.
    response->set_mac(gate_->authenticator()->SignReply(
        method, request.credential().nonce(), *LinkResult(*response)));
  }
  return true;
}

void PeerLinkServer::Serve(UniqueFd connection) {
  const int fd = connection.get();
  if (absl::Status nodelay = SetNoDelay(fd); !nodelay.ok()) {
    LOG(WARNING) << "Peer link: " << nodelay;
  }
  // Sends to a peer that does not read fail after io_timeout; receives
  // have deadlines of their own (FrameReader).
  if (absl::Status timeout = SetIoTimeout(fd, limits_.io_timeout);
      !timeout.ok()) {
    LOG(WARNING) << "Peer link: " << timeout;
    return;
  }
  // Who is calling, for the gate: fixed for the connection's life.
  const std::optional<IpAddress> peer = IpAddress::OfPeer(fd);
  FrameReader frames(fd);
  bool first = true;
  while (true) {
    const absl::Duration wait =
        first ? limits_.hello_timeout : limits_.idle_timeout;
    absl::StatusOr<std::string> frame =
        frames.Next(absl::Now() + wait, limits_.io_timeout);
    first = false;
    peer::v1::LinkRequest request;
    absl::Status malformed;
    if (absl::IsInvalidArgument(frame.status())) {
      malformed = frame.status();  // Too long: the rest is not read.
    } else if (absl::IsDeadlineExceeded(frame.status())) {
      VLOG(1) << "Peer link: closing a silent connection: " << frame.status();
      return;
    } else if (!frame.ok()) {
      return;  // The peer closed (or Shutdown() did).
    } else if (!request.ParseFromString(*frame)) {
      malformed = absl::InvalidArgumentError("malformed peer link request");
    }
    if (!malformed.ok()) {
      // Answered, then the connection ends: what follows on the stream
      // cannot be trusted.
      LOG_EVERY_N(WARNING, 100) << "Peer link: " << malformed;
      peer::v1::LinkResponse refusal;
      EncodeStatus(malformed, &refusal);
      (void)SendFrame(fd, refusal.SerializeAsString());
      return;
    }
    peer::v1::LinkResponse response;
    const bool admitted = Answer(request, peer, &response);
    if (!SendFrame(fd, response.SerializeAsString()).ok() || !admitted) {
      // A refused caller gets no second try on this connection.
      return;
    }
  }
}

}  // namespace swift
