// The lean peer link; see peer_link.h.
#include "daemon/broker/peer_link.h"

#include <sys/socket.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace swift {

absl::StatusOr<std::unique_ptr<PeerLinkServer>> PeerLinkServer::Start(
    const HostPort& address, PeerServiceImpl* service) {
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
      new PeerLinkServer(*std::move(listener), *port, service));
  server->accept_thread_ =
      std::thread([raw = server.get()] { raw->AcceptLoop(); });
  return server;
}

PeerLinkServer::~PeerLinkServer() { Shutdown(); }

void PeerLinkServer::AcceptLoop() {
  while (true) {
    absl::StatusOr<UniqueFd> connection = AcceptTcp(listener_.get());
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return;
    }
    if (!connection.ok()) {
      LOG_EVERY_N(WARNING, 100) << "Peer link accept: " << connection.status();
      continue;
    }
    connections_.insert(connection->get());
    ++running_;
    std::thread([this, fd = *std::move(connection)]() mutable {
      Serve(std::move(fd));
    }).detach();
  }
}

peer::v1::LinkResponse PeerLinkServer::Answer(
    const peer::v1::LinkRequest& request) {
  peer::v1::LinkResponse response;
  absl::Status status;
  if (request.has_connect()) {
    const absl::Time deadline =
        absl::Now() + absl::Milliseconds(request.timeout_ms() > 0
                                             ? request.timeout_ms()
                                             : 10000);
    absl::StatusOr<peer::v1::ConnectResponse> connected =
        service_->HandleConnect(request.connect(), deadline);
    status = connected.status();
    if (connected.ok()) {
      *response.mutable_connect() = *std::move(connected);
    }
  } else if (request.has_close()) {
    status = service_->HandleClose(request.close());
    if (status.ok()) {
      response.mutable_close();
    }
  } else {
    status = absl::UnimplementedError("unknown peer link call");
  }
  response.set_code(static_cast<int>(status.code()));
  response.set_message(std::string(status.message()));
  return response;
}

void PeerLinkServer::Serve(UniqueFd connection) {
  const int fd = connection.get();
  while (true) {
    absl::StatusOr<std::string> frame = RecvFrame(fd);
    if (!frame.ok()) {
      break;
    }
    peer::v1::LinkRequest request;
    peer::v1::LinkResponse response;
    if (!request.ParseFromString(*frame)) {
      response.set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
      response.set_message("malformed peer link request");
    } else {
      response = Answer(request);
    }
    if (!SendFrame(fd, response.SerializeAsString()).ok()) {
      break;
    }
  }
  absl::MutexLock lock(&mu_);
  connections_.erase(fd);
  --running_;
}

void PeerLinkServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    for (int fd : connections_) {
      shutdown(fd, SHUT_RDWR);
    }
  }
  shutdown(listener_.get(), SHUT_RDWR);
  if (accept_thread_.joinable()) {
    accept_thread_.join();
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* running) { return *running == 0; }, &running_));
}

namespace {

// The time left until `deadline` as a request's timeout_ms.
uint32_t TimeoutMs(absl::Duration left) {
  return static_cast<uint32_t>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(left) + 1, 1, UINT32_MAX));
}

absl::Status AnswerStatus(const peer::v1::LinkResponse& response) {
  return response.code() == 0
             ? absl::OkStatus()
             : absl::Status(static_cast<absl::StatusCode>(response.code()),
                            response.message());
}

}  // namespace

absl::StatusOr<UniqueFd> PeerLinkClient::TakeConnection(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("no time left for the peer link call");
  }
  UniqueFd connection;
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!connection.valid()) {
    absl::StatusOr<UniqueFd> fresh = ConnectTcp(address_);
    if (!fresh.ok()) {
      return fresh.status();
    }
    connection = *std::move(fresh);
  }
  // A dead peer must not hang the caller past its deadline.
  if (absl::Status timeout = SetIoTimeout(connection.get(), left);
      !timeout.ok()) {
    return timeout;
  }
  return connection;
}

void PeerLinkClient::ReturnConnection(UniqueFd connection) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(connection));
}

absl::StatusOr<peer::v1::LinkResponse> PeerLinkClient::Call(
    peer::v1::LinkRequest request, absl::Time deadline) {
  absl::StatusOr<UniqueFd> connection = TakeConnection(deadline);
  if (!connection.ok()) {
    return connection.status();
  }
  request.set_timeout_ms(TimeoutMs(deadline - absl::Now()));
  if (absl::Status sent =
          SendFrame(connection->get(), request.SerializeAsString());
      !sent.ok()) {
    return sent;
  }
  absl::StatusOr<std::string> frame = RecvFrame(connection->get());
  if (!frame.ok()) {
    return frame.status();
  }
  peer::v1::LinkResponse response;
  if (!response.ParseFromString(*frame)) {
    return absl::InternalError("malformed peer link response");
  }
  ReturnConnection(*std::move(connection));
  if (absl::Status answer = AnswerStatus(response); !answer.ok()) {
    return answer;
  }
  return response;
}

std::vector<absl::Status> PeerLinkClient::CallPipelined(
    std::vector<peer::v1::LinkRequest> requests, absl::Time deadline) {
  std::vector<absl::Status> statuses;
  statuses.reserve(requests.size());
  absl::StatusOr<UniqueFd> connection = TakeConnection(deadline);
  absl::Status transport = connection.status();
  size_t sent = 0;
  if (transport.ok()) {
    const uint32_t timeout_ms = TimeoutMs(deadline - absl::Now());
    for (; sent < requests.size() && transport.ok(); ++sent) {
      requests[sent].set_timeout_ms(timeout_ms);
      transport =
          SendFrame(connection->get(), requests[sent].SerializeAsString());
    }
    if (!transport.ok()) {
      --sent;  // That one may be half sent: its answer will not come.
    }
  }
  // Every request sent is answered, in order, even after a send failed.
  for (size_t answered = 0; answered < sent; ++answered) {
    absl::StatusOr<std::string> frame = RecvFrame(connection->get());
    if (!frame.ok()) {
      transport = frame.status();
      break;
    }
    peer::v1::LinkResponse response;
    if (!response.ParseFromString(*frame)) {
      transport = absl::InternalError("malformed peer link response");
      break;
    }
    statuses.push_back(AnswerStatus(response));
  }
  if (transport.ok()) {
    ReturnConnection(*std::move(connection));
  }
  while (statuses.size() < requests.size()) {
    statuses.push_back(transport);
  }
  return statuses;
}

}  // namespace swift
