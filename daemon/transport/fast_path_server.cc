// FastPathServer implementation; see fast_path_server.h.
#include "daemon/transport/fast_path_server.h"

#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "daemon/transport/socket_path.h"
#include "glog/logging.h"

namespace swift {
namespace {

v1::FastResponse ErrorResponse(uint64_t call_id, const absl::Status& status) {
  v1::FastResponse response;
  response.set_call_id(call_id);
  response.set_code(static_cast<int>(status.code()));
  response.set_message(std::string(status.message()));
  return response;
}

// Checks the first request of a connection, which must be a hello.
absl::Status CheckHello(const v1::FastRequest& request) {
  if (request.call_case() != v1::FastRequest::kHello) {
    return absl::FailedPreconditionError(
        "the first request on the fast path must be a hello");
  }
  const uint32_t version = request.hello().api_version();
  if (version < kMinControlApiVersion || version > kControlApiVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "client speaks Control API v", version, " but this swiftd speaks v",
        kMinControlApiVersion, " to v", kControlApiVersion));
  }
  return absl::OkStatus();
}

}  // namespace

FastPathServer::FastPathServer(std::string path, SeqpacketListener listener,
                               Handlers handlers)
    : path_(std::move(path)),
      listener_(std::move(listener)),
      handlers_(std::move(handlers)) {}

absl::StatusOr<std::unique_ptr<FastPathServer>> FastPathServer::Start(
    const std::string& path, mode_t mode, Handlers handlers) {
  absl::StatusOr<SeqpacketListener> listener =
      SeqpacketListener::Listen(path, mode);
  if (!listener.ok()) {
    return listener.status();
  }
  std::unique_ptr<FastPathServer> server(
      new FastPathServer(path, *std::move(listener), std::move(handlers)));
  server->accept_thread_ =
      std::thread([raw = server.get()] { raw->AcceptLoop(); });
  LOG(INFO) << "Serving the fast path on " << path;
  return server;
}

FastPathServer::~FastPathServer() { Shutdown(); }

void FastPathServer::AcceptLoop() {
  while (true) {
    absl::StatusOr<SeqpacketSocket> connection = listener_.Accept();
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      return;
    }
    if (!connection.ok()) {
      LOG_EVERY_N(ERROR, 100)
          << "Fast path accept failed: " << connection.status();
      continue;
    }
    connection_fds_.insert(connection->fd());
    ++running_threads_;
    const uint64_t channel_id = next_channel_id_++;
    // Detached: the thread announces its end through running_threads_,
    // which Shutdown() waits on.
    std::thread([this, channel_id, socket = *std::move(connection)]() mutable {
      Serve(std::move(socket), channel_id);
    }).detach();
  }
}

void FastPathServer::Serve(SeqpacketSocket connection, uint64_t channel_id) {
  const int fd = connection.fd();
  FastPathCaller caller;
  caller.channel_id = channel_id;
  ucred credentials = {};
  socklen_t length = sizeof(credentials);
  if (getsockopt(connection.fd(), SOL_SOCKET, SO_PEERCRED, &credentials,
                 &length) == 0) {
    caller.uid = credentials.uid;
    caller.gid = credentials.gid;
    caller.pid = credentials.pid;
  }
  bool greeted = false;
  bool service_channel = false;
  bool function_channel = false;
  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> message = connection.Receive();
    if (!message.ok()) {
      break;  // The client closed (or Shutdown() did).
    }
    v1::FastRequest request;
    v1::FastResponse response;
    if (!request.ParseFromString(message->data)) {
      response = ErrorResponse(
          0, absl::InvalidArgumentError("malformed fast path request"));
    } else if (!greeted) {
      absl::Status hello = CheckHello(request);
      if (hello.ok() && request.hello().channel() == v1::FastHello::FUNCTION) {
        // Handed over (or refused) now; either way this thread is done
        // with the connection once it has answered.
        function_channel = true;
        caller.client_name = request.hello().client_name();
        hello = handlers_.function_channel
                    ? handlers_.function_channel(connection, caller,
                                                 request.hello().function())
                    : absl::UnimplementedError(
                          "this swiftd runs no function workers");
      }
      if (hello.ok()) {
        greeted = true;
        caller.client_name = request.hello().client_name();
        service_channel = request.hello().channel() == v1::FastHello::SERVICE;
        response.set_call_id(request.call_id());
        response.mutable_hello()->set_api_version(kControlApiVersion);
        response.mutable_hello()->set_peer_address(handlers_.peer_address);
        response.mutable_hello()->set_device(handlers_.device);
      } else {
        response = ErrorResponse(request.call_id(), hello);
      }
    } else {
      response = handlers_.call(caller, request);
      response.set_call_id(request.call_id());
    }
    if (!connection.Send(response.SerializeAsString()).ok()) {
      break;
    }
    if (service_channel) {
      handlers_.service(std::move(connection), caller);
      break;
    }
    if (function_channel) {
      break;
    }
  }
  if (greeted && !service_channel && !function_channel &&
      handlers_.disconnected) {
    handlers_.disconnected(caller);
  }
  absl::MutexLock lock(&mu_);
  connection_fds_.erase(fd);
  --running_threads_;
}

void FastPathServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      return;
    }
    shutting_down_ = true;
    for (int fd : connection_fds_) {
      // Wakes the connection's blocked recvmsg(); its thread closes the fd.
      shutdown(fd, SHUT_RDWR);
    }
  }
  listener_.Shutdown();
  if (accept_thread_.joinable()) {
    accept_thread_.join();
  }
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* running) { return *running == 0; }, &running_threads_));
  }
  RemoveSocket(path_);
}

int FastPathServer::connection_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(connection_fds_.size());
}

}  // namespace swift
