// PeerLinkServer implementation; see peer_link_server.h.
#include "daemon/broker/peer_link_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <memory>
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
  options.thread_name = "sw-peerlink";
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

absl::Status PeerLinkServer::Admit(const peer::v1::LinkRequest& request,
                                   const std::optional<IpAddress>& peer,
                                   const char** method) {
  const google::protobuf::Message* call = LinkCall(request, method);
  if (call == nullptr) {
    return absl::OkStatus();  // Unknown: Answer() says so.
  }
  return gate_->Admit(
      *method, *call,
      request.has_credential() ? &request.credential() : nullptr, peer);
}

void PeerLinkServer::Seal(const absl::Status& status, const char* method,
                          const std::string& nonce,
                          peer::v1::LinkResponse* response) const {
  EncodeStatus(status, response);
  if (status.ok() && gate_->secure() && LinkResult(*response) != nullptr) {
    // Our proof to the caller: this answer comes from its cluster.
    response->set_mac(gate_->authenticator()->SignReply(
        method, nonce, *LinkResult(*response)));
  }
}

void PeerLinkServer::Answer(const peer::v1::LinkRequest& request,
                            const std::optional<IpAddress>& peer,
                            const char* method,
                            peer::v1::LinkResponse* response) {
  absl::Status status;
  if (request.has_close()) {
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
  Seal(status, method, request.credential().nonce(), response);
}

absl::StatusOr<ServiceRegistry::StartedAccept> PeerLinkServer::StartConnect(
    const peer::v1::LinkRequest& request, const std::optional<IpAddress>& peer,
    const char* method, std::shared_ptr<LinkAnswer> answer) {
  const absl::Time deadline =
      absl::Now() + (request.timeout_ms() > 0
                         ? absl::Milliseconds(request.timeout_ms())
                         : kDefaultHandshakeTimeout);
  return handler_->StartConnect(
      request.connect(), deadline, PeerHandler::CallerOf(peer),
      [this, method, nonce = request.credential().nonce(),
       answer = std::move(answer)](
          absl::StatusOr<peer::v1::ConnectResponse> connected) {
        peer::v1::LinkResponse response;
        if (connected.ok()) {
          *response.mutable_connect() = *std::move(connected);
        }
        Seal(connected.status(), method, nonce, &response);
        answer->Send(response);
      });
}

bool PeerLinkServer::Settle(const InFlightConnect& connect) {
  std::optional<bool> sent =
      connect.answer->WaitUntil(connect.started.deadline);
  if (!sent.has_value()) {
    // The application is late: kDeadlineExceeded goes from here, unless
    // its answer is on its way from the channel's thread.
    (void)handler_->ExpireConnect(connect.started);
    sent = connect.answer->WaitUntil(absl::InfiniteFuture());
  }
  return *sent;
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
  // The connect whose answer another thread sends, if any.
  std::optional<InFlightConnect> in_flight;
  bool first = true;
  while (true) {
    const absl::Time idle_deadline =
        absl::Now() + (first ? limits_.hello_timeout : limits_.idle_timeout);
    absl::StatusOr<std::string> frame =
        frames.Next(in_flight.has_value()
                        ? std::min(idle_deadline, in_flight->started.deadline)
                        : idle_deadline,
                    limits_.io_timeout);
    first = false;
    if (in_flight.has_value()) {
      // Its answer comes first, whatever happens next: answers keep the
      // requests' order, and the connection must outlive its sender.
      const bool sent = Settle(*in_flight);
      in_flight.reset();
      if (!sent) {
        return;  // The peer stopped reading its answers.
      }
      if (absl::IsDeadlineExceeded(frame.status()) && frames.buffered() == 0 &&
          absl::Now() < idle_deadline) {
        continue;  // It was only the connect's deadline.
      }
    }
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
    const char* method = "";
    if (absl::Status admitted = Admit(request, peer, &method); !admitted.ok()) {
      // A refused caller gets no second try on this connection.
      EncodeStatus(admitted, &response);
      (void)SendFrame(fd, response.SerializeAsString());
      return;
    }
    if (request.has_connect()) {
      // The application's answer is relayed by the thread that reads it
      // (the service channel's): waking this one to send it would cost a
      // connect two more context switches.
      auto answer = std::make_shared<LinkAnswer>(fd);
      absl::StatusOr<ServiceRegistry::StartedAccept> started =
          StartConnect(request, peer, method, answer);
      if (started.ok()) {
        in_flight = InFlightConnect{std::move(answer), *std::move(started)};
        continue;
      }
      Seal(started.status(), method, request.credential().nonce(), &response);
    } else {
      Answer(request, peer, method, &response);
    }
    if (!SendFrame(fd, response.SerializeAsString()).ok()) {
      return;
    }
  }
}

PeerLinkServer::LinkAnswer::LinkAnswer(int fd) : fd_(fd) {}

void PeerLinkServer::LinkAnswer::Send(const peer::v1::LinkResponse& response) {
  // A peer that asked and is still connected reads its answer at once; a
  // full socket means it stopped reading, and this thread (often a
  // service channel's) must not wait on it: the connection ends instead.
  const bool sent = SendFrameBefore(fd_, response.SerializeAsString(),
                                    absl::Now() + kSendBound)
                        .ok();
  if (!sent) {
    shutdown(fd_, SHUT_RDWR);  // The link thread reads the end.
  }
  absl::MutexLock lock(&mu_);
  sent_ = sent;
}

std::optional<bool> PeerLinkServer::LinkAnswer::WaitUntil(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(
      absl::Condition(
          +[](std::optional<bool>* sent) { return sent->has_value(); }, &sent_),
      deadline);
  return sent_;
}

}  // namespace swift
