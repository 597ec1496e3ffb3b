// FastPathServer implementation; see fast_path_server.h.
#include "daemon/transport/fast_path_server.h"

#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/call_lane.h"
#include "common/spin_slot.h"
#include "common/spin_wait.h"
#include "common/thread_name.h"
#include "common/version.h"
#include "daemon/transport/socket_path.h"
#include "glog/logging.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

v1::FastResponse ErrorResponse(uint64_t call_id, const absl::Status& status) {
  v1::FastResponse response;
  response.set_call_id(call_id);
  EncodeStatus(status, &response);
  return response;
}

// Sets SO_RCVTIMEO or SO_SNDTIMEO (`option`); InfiniteDuration: none.
bool SetSocketTimeout(int fd, int option, absl::Duration timeout) {
  timeval tv = {};
  if (timeout != absl::InfiniteDuration()) {
    // At least 1 ms: a zero timeval would mean no timeout at all.
    tv = absl::ToTimeval(std::max(timeout, absl::Milliseconds(1)));
  }
  return setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv)) == 0;
}

// The socket's timeouts are the socket's, not the fd's: a channel handed
// on (to a worker, to a listening application's registry) must not keep
// the deadlines this server set.
bool ClearTimeouts(int fd) {
  return SetSocketTimeout(fd, SO_RCVTIMEO, absl::InfiniteDuration()) &&
         SetSocketTimeout(fd, SO_SNDTIMEO, absl::InfiniteDuration());
}

// The per-uid cap's key: the peer's uid; root's connections are exempt.
std::optional<uint64_t> PeerUid(int fd) {
  ucred credentials = {};
  socklen_t length = sizeof(credentials);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return FastPathCaller::kUnknownId;  // One tenant: the unknown.
  }
  if (credentials.uid == 0) {
    return std::nullopt;
  }
  return credentials.uid;
}

// Checks the first request of a connection, which must be a hello.
absl::Status CheckHello(const v1::FastRequest& request) {
  if (request.call_case() != v1::FastRequest::kHello) {
    return absl::FailedPreconditionError(
        "the first request on the fast path must be a hello");
  }
  return CheckApiVersion(request.hello().api_version(), "client");
}

// A client posted a call larger than its call lane: its connection is
// closed (it broke the lane's rules, so nothing it says can be trusted).
void LogLaneBroken(const FastPathCaller& caller) {
  LOG_EVERY_N(WARNING, 100)
      << "Fast path: closing the connection of pid " << caller.pid << " (uid "
      << caller.uid << "): it posted a call larger than its call lane";
}

// After an answer: watches the call lane for the client's next call, at
// most `limit` (zero: not at all). kHere: the call's bytes are in
// `*request`; kOnSocket: the client marked that it sends it on the socket.
// Only the lane is watched, with no system call but the yield: a client
// marks there what it sends on the socket.
// Having taken a call, this thread stays "watching" while it serves it:
// the client posts nothing before it has the answer, and clearing the flag
// now would make it ring the doorbell for a call already taken. The flag
// is cleared, then the lane looked at once more, only before this thread
// sleeps in recvmsg (common/call_lane.h).
CallLane::Request WatchForNextCall(CallLane& lane, absl::Duration limit,
                                   std::string* request) {
  uint64_t call_id = 0;
  CallLane::Request taken = CallLane::Request::kNone;
  if (const SpinSlot slot = SpinSlot::TryTake();
      slot.taken() && limit > absl::ZeroDuration()) {
    lane.set_server_watching(true);
    const absl::Time deadline = absl::Now() + limit;
    while ((taken = lane.TakeRequest(&call_id, request)) ==
               CallLane::Request::kNone &&
           absl::Now() < deadline) {
      // The client may be waiting for this very core (see spin_wait.h).
      sched_yield();
    }
  }
  if (taken != CallLane::Request::kHere) {
    lane.set_server_watching(false);
  }
  if (taken == CallLane::Request::kNone) {
    taken = lane.TakeRequest(&call_id, request);
  }
  return taken;
}

// Sends `answer` (with `fds`) to call `call_id`: through the lane when the
// client watches it and the answer fits, with a doorbell on the socket if
// the client stopped watching meanwhile; else on the socket, marked in the
// lane for a client watching it. False when the connection is gone.
bool SendAnswer(SeqpacketSocket& connection, CallLane* lane, uint64_t call_id,
                const std::string& answer, const std::vector<int>& fds) {
  if (lane != nullptr && fds.empty() && lane->client_watching() &&
      lane->PostAnswer(call_id, answer)) {
    if (lane->client_watching()) {
      return true;
    }
    v1::FastResponse doorbell;
    doorbell.set_call_id(call_id);
    doorbell.set_lane_doorbell(true);
    return connection.Send(doorbell.SerializeAsString()).ok();
  }
  if (!connection.Send(answer, fds).ok()) {
    return false;
  }
  if (lane != nullptr) {
    lane->PostAnswerOnSocket(call_id);
  }
  return true;
}

}  // namespace

FastPathServer::FastPathServer(std::string path, SeqpacketListener listener,
                               Handlers handlers, const FastPathLimits& limits)
    : path_(std::move(path)),
      listener_(std::move(listener)),
      handlers_(std::move(handlers)),
      limits_(limits) {}

ConnectionServer::Options FastPathServer::ServerOptions(
    const FastPathLimits& limits) {
  ConnectionServer::Options options;
  options.name = "Fast path";
  options.thread_name = "sw-fastpath";
  options.max_connections = limits.max_connections;
  options.max_connections_setting = "--max_fast_path_connections";
  options.key = PeerUid;
  options.key_name = "uid";
  options.max_connections_per_key = limits.max_connections_per_uid;
  options.max_connections_per_key_setting =
      "--max_fast_path_connections_per_uid";
  options.fd_reserve = limits.fd_reserve;
  return options;
}

absl::StatusOr<std::unique_ptr<FastPathServer>> FastPathServer::Start(
    const std::string& path, mode_t mode, Handlers handlers,
    const FastPathLimits& limits) {
  absl::StatusOr<SeqpacketListener> listener =
      SeqpacketListener::Listen(path, mode);
  if (!listener.ok()) {
    return listener.status();
  }
  std::unique_ptr<FastPathServer> server(new FastPathServer(
      path, *std::move(listener), std::move(handlers), limits));
  server->server_ = ConnectionServer::Start(
      server->listener_.fd(), ServerOptions(limits),
      [raw = server.get()](UniqueFd connection, uint64_t channel_id) {
        raw->Serve(SeqpacketSocket(std::move(connection)), channel_id);
      },
      &FastPathServer::Refuse);
  LOG(INFO) << "Serving the fast path on " << path;
  return server;
}

FastPathServer::~FastPathServer() { Shutdown(); }

void FastPathServer::Refuse(int connection, const absl::Status& why) {
  // The answer goes to the hello: its call id if it is here already, else
  // 0, which is what clients send in a hello. recv() with no control
  // buffer closes any fds attached. The socket is non-blocking.
  uint64_t call_id = 0;
  char hello[4096];
  const ssize_t size = recv(connection, hello, sizeof(hello), 0);
  v1::FastRequest request;
  if (size > 0 && request.ParseFromArray(hello, static_cast<int>(size))) {
    call_id = request.call_id();
  }
  const std::string answer = ErrorResponse(call_id, why).SerializeAsString();
  (void)send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
}

void FastPathServer::Serve(SeqpacketSocket connection, uint64_t channel_id) {
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
  // Whether `greeted` was told (once the hello's answer went out).
  bool announced = false;
  bool service_channel = false;
  bool function_channel = false;
  // Whether to spin for the next call after an answer (see
  // FastPathLimits::answer_spin): while calls come that fast.
  bool spin_next = true;
  absl::Time answered_at = absl::InfinitePast();
  // The connection's call lane, when its client asked for one and this
  // server spins for calls; and a call the spin took from it.
  std::optional<CallLane> lane;
  std::optional<std::string> from_lane;
  // Never wait on a peer for ever: a hello is due within hello_timeout of
  // the connect (however many other messages come first), and a client
  // that does not take its answers is dropped.
  const absl::Time hello_deadline = absl::Now() + limits_.hello_timeout;
  if (!SetSocketTimeout(connection.fd(), SO_SNDTIMEO, limits_.send_timeout)) {
    return;
  }
  while (true) {
    if (!greeted && !SetSocketTimeout(connection.fd(), SO_RCVTIMEO,
                                      hello_deadline - absl::Now())) {
      return;
    }
    v1::FastRequest request;
    bool parsed = false;
    if (from_lane.has_value()) {
      parsed = request.ParseFromString(*from_lane);
      from_lane.reset();
      spin_next = true;
    } else {
      absl::StatusOr<SeqpacketSocket::Message> message = connection.Receive();
      if (answered_at != absl::InfinitePast()) {
        spin_next = absl::Now() - answered_at <= limits_.answer_spin;
      }
      if (!message.ok()) {
        // The client closed (or Shutdown() did), or said no hello in time.
        LOG_IF_EVERY_N(WARNING, !greeted && absl::Now() >= hello_deadline, 100)
            << "Fast path: closing a connection (uid " << caller.uid << ", pid "
            << caller.pid << ") that sent no hello within "
            << limits_.hello_timeout;
        break;
      }
      parsed = request.ParseFromString(message->data);
      if (parsed && request.lane_doorbell() && lane.has_value()) {
        // The call is in the lane, or was taken from it already.
        uint64_t call_id = 0;
        std::string posted;
        const CallLane::Request taken = lane->TakeRequest(&call_id, &posted);
        if (taken == CallLane::Request::kNone ||
            taken == CallLane::Request::kOnSocket) {
          continue;
        }
        if (taken == CallLane::Request::kMalformed) {
          LogLaneBroken(caller);
          break;
        }
        parsed = request.ParseFromString(posted);
      } else if (parsed && lane.has_value()) {
        lane->SocketRequestArrived(request.call_id());
      }
    }
    v1::FastResponse response;
    // Sent with the answer; closed at the end of this iteration whether
    // the send worked or not.
    std::vector<UniqueFd> attached;
    if (!parsed) {
      response = ErrorResponse(
          0, absl::InvalidArgumentError("malformed fast path request"));
    } else if (request.lane_doorbell()) {
      response = ErrorResponse(
          request.call_id(),
          absl::InvalidArgumentError(
              "a call lane doorbell on a connection without a call lane"));
    } else if (!greeted) {
      absl::Status hello = CheckHello(request);
      if (hello.ok() && request.hello().channel() == v1::FastHello::FUNCTION) {
        // Handed over (or refused) now; either way this thread is done
        // with the connection once it has answered.
        function_channel = true;
        caller.client_name = request.hello().client_name();
        if (!ClearTimeouts(connection.fd())) {
          break;
        }
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
        // Greeted: a client may keep a CALLS connection idle as long as it
        // likes (the connection caps bound what that costs).
        if (!SetSocketTimeout(connection.fd(), SO_RCVTIMEO,
                              absl::InfiniteDuration())) {
          break;
        }
        response.set_call_id(request.call_id());
        response.mutable_hello()->set_api_version(kControlApiVersion);
        response.mutable_hello()->set_peer_address(handlers_.peer_address);
        response.mutable_hello()->set_device(handlers_.device);
        if (request.hello().lane() && !service_channel &&
            request.hello().channel() == v1::FastHello::CALLS &&
            limits_.answer_spin > absl::ZeroDuration()) {
          UniqueFd for_client;
          absl::StatusOr<CallLane> made = CallLane::Create(&for_client);
          if (made.ok()) {
            lane.emplace(*std::move(made));
            attached.push_back(std::move(for_client));
            response.mutable_hello()->set_lane(true);
          } else {
            LOG_EVERY_N(WARNING, 100) << "Fast path: no call lane for pid "
                                      << caller.pid << ": " << made.status();
          }
        }
        if (handlers_.port_address) {
          if (std::optional<v1::CachedPortAddress> port =
                  handlers_.port_address();
              port.has_value()) {
            *response.mutable_hello()->mutable_port_address() = *port;
          }
        }
      } else {
        response = ErrorResponse(request.call_id(), hello);
      }
    } else {
      response = handlers_.call_with_fds
                     ? handlers_.call_with_fds(caller, request, &attached)
                     : handlers_.call(caller, request);
      response.set_call_id(request.call_id());
    }
    std::vector<int> fds;
    for (const UniqueFd& fd : attached) {
      fds.push_back(fd.get());
    }
    if (!SendAnswer(connection, lane.has_value() ? &*lane : nullptr,
                    response.call_id(), response.SerializeAsString(), fds)) {
      break;
    }
    attached.clear();
    if (greeted && !announced && !function_channel) {
      announced = true;
      if (handlers_.greeted) {
        handlers_.greeted(caller, request.hello().channel());
      }
    }
    if (greeted && !service_channel && !function_channel) {
      // The client calling back to back: its next call is likely due
      // within microseconds.
      answered_at = absl::Now();
      if (lane.has_value()) {
        std::string posted;
        const CallLane::Request taken = WatchForNextCall(
            *lane, spin_next ? limits_.answer_spin : absl::ZeroDuration(),
            &posted);
        if (taken == CallLane::Request::kMalformed) {
          LogLaneBroken(caller);
          break;
        }
        if (taken == CallLane::Request::kHere) {
          from_lane = std::move(posted);
        }
      } else if (spin_next) {
        SpinUntilReadable(connection.fd(), limits_.answer_spin);
      }
    }
    if (service_channel) {
      if (!ClearTimeouts(connection.fd())) {
        break;
      }
      NameThisThread("sw-service");
      handlers_.service(std::move(connection), caller);
      if (handlers_.ended) {
        handlers_.ended(caller, v1::FastHello::SERVICE);
      }
      return;
    }
    if (function_channel) {
      break;
    }
  }
  if (greeted && !service_channel && !function_channel &&
      handlers_.disconnected) {
    handlers_.disconnected(caller);
  }
  if (announced && !function_channel && handlers_.ended) {
    handlers_.ended(caller, service_channel ? v1::FastHello::SERVICE
                                            : v1::FastHello::CALLS);
  }
}

void FastPathServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      return;
    }
    shut_down_ = true;
  }
  // Stops accepting, closes every connection, waits for their threads.
  server_->Shutdown();
  RemoveSocket(path_);
}

}  // namespace swift
