// SessionImpl and ListenerImpl; see session_impl.h and swift/session.h.
#include "client/session_impl.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/unix_socket.h"
#include "common/wire_micros.h"
#include "common/verbs/qp_transitions.h"

namespace swift {
namespace {

std::string NameOrDefault(const std::string& name) {
  return name.empty() ? absl::StrCat("libswift-", getpid()) : name;
}

// Reader threads per listener: accepts in flight at the application at
// once. Two keep both CPUs of a small host busy with RTR/RTS; more would
// only contend for them (and a device serializes its own QP commands).
constexpr int kAcceptThreads = 2;

// How long the advertiser waits after failing to take QPs (e.g. at the
// device's QP limit) before it tries again.
constexpr absl::Duration kAdvertiseRetry = absl::Milliseconds(10);

double MicrosSince(absl::Time start) {
  return absl::ToDoubleMicroseconds(absl::Now() - start);
}

// `whole` minus the `part` of it another process measured; never negative
// (each side rounds to whole microseconds).
double Less(uint32_t whole, uint32_t part) {
  return whole > part ? static_cast<double>(whole - part) : 0.0;
}

// The swiftds' and the application's parts of a connect (ConnectResult),
// nested as measured: broker > peer call > remote serve > app wait > accept.
void AddRemoteSteps(const v1::ConnectResult& result, double round_trip_us,
                    ConnectSteps& steps) {
  steps.to_swiftd_us = std::max(0.0, round_trip_us - result.broker_us());
  steps.admission_us = result.admission_us();
  steps.broker_us = Less(result.broker_us(),
                         result.admission_us() + result.peer_call_us());
  steps.peer_link_us = Less(result.peer_call_us(), result.remote_serve_us());
  steps.remote_us =
      Less(result.remote_serve_us(), result.remote_app_wait_us());
  steps.to_app_us = Less(result.remote_app_wait_us(), result.app_accept_us());
  steps.app_accept_us = result.app_accept_us();
}

// Moves an INIT QP to RTR toward `remote`, then to RTS.
absl::Status ConnectQp(PooledQp& pooled, const verbs::PortAddress& port,
                       const verbs::QpEndpoint& remote) {
  if (absl::Status rtr = verbs::ModifyRcToRtr(*pooled.qp, port, remote);
      !rtr.ok()) {
    return rtr;
  }
  return verbs::ModifyRcToRts(*pooled.qp, pooled.psn);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> Session::Create(
    const SessionOptions& options) {
  return SessionImpl::Create(options);
}

absl::StatusOr<std::unique_ptr<Session>> SessionImpl::Create(
    const SessionOptions& options) {
  if (options.buffer_bytes == 0 || options.pool_low < 0 ||
      options.pool_high < options.pool_low || options.pool_high < 1) {
    return absl::InvalidArgumentError(
        "SessionOptions: buffer_bytes must be positive and "
        "0 <= pool_low <= pool_high, pool_high >= 1");
  }
  std::unique_ptr<SessionImpl> session(new SessionImpl());
  session->options_ = options;
  session->options_.client_name = NameOrDefault(options.client_name);
  session->fast_path_socket_ = FastPathSocketPath(options.socket_path);
  absl::StatusOr<std::unique_ptr<FastPathClient>> fast_path =
      FastPathClient::Connect(session->fast_path_socket_,
                              session->options_.client_name);
  if (!fast_path.ok()) {
    return absl::Status(
        absl::IsNotFound(fast_path.status()) ? absl::StatusCode::kUnavailable
                                             : fast_path.status().code(),
        absl::StrCat("cannot reach swiftd at ", options.socket_path, ": ",
                     fast_path.status().message()));
  }
  session->fast_path_ = *std::move(fast_path);

  std::string device = options.device;
  if (device.empty()) {
    device = session->fast_path_->hello().device();
  }
  if (device.empty()) {
    return absl::FailedPreconditionError(
        "swiftd has no RDMA device to broker on, and no device was given");
  }
  absl::StatusOr<std::shared_ptr<verbs::Context>> context =
      verbs::Context::OpenByName(device);
  if (!context.ok()) {
    return context.status();
  }
  session->context_ = *std::move(context);
  absl::StatusOr<std::shared_ptr<verbs::Pd>> pd =
      verbs::Pd::Allocate(session->context_);
  if (!pd.ok()) {
    return pd.status();
  }
  session->pd_ = *std::move(pd);
  absl::StatusOr<verbs::PortAddress> port =
      verbs::QueryPortAddress(*session->context_, 1);
  if (!port.ok()) {
    return port.status();
  }
  session->port_ = *port;
  // MAP_SHARED memory: a forked child writes the very pages the NIC reads.
  absl::StatusOr<verbs::SharedRegion> region =
      verbs::SharedRegion::Create("swift-session", options.buffer_bytes);
  if (!region.ok()) {
    return region.status();
  }
  session->region_ = std::make_unique<verbs::SharedRegion>(*std::move(region));
  absl::StatusOr<std::unique_ptr<verbs::Mr>> mr = verbs::Mr::Register(
      session->pd_, session->region_->data(), session->region_->size(),
      verbs::Mr::kRemoteReadWrite);
  if (!mr.ok()) {
    return mr.status();
  }
  session->mr_ = *std::move(mr);

  QpPool::Options pool_options;
  pool_options.low = options.pool_low;
  pool_options.high = options.pool_high;
  pool_options.capacity.max_send_wr = options.max_send_wr;
  pool_options.capacity.max_recv_wr = options.max_recv_wr;
  pool_options.cq_entries =
      static_cast<int>(options.max_send_wr + options.max_recv_wr);
  session->pool_ =
      std::make_unique<QpPool>(session->pd_, session->port_, pool_options);
  if (absl::Status filled = session->pool_->Fill(options.pool_low);
      !filled.ok()) {
    return filled;
  }
  session->pool_->StartRefill();
  return std::unique_ptr<Session>(std::move(session));
}

verbs::QpEndpoint SessionImpl::EndpointOf(const PooledQp& pooled) const {
  verbs::QpEndpoint endpoint =
      verbs::MakeEndpoint(port_, pooled.qp->qpn(), pooled.psn);
  endpoint.buffer = verbs::RemoteBuffer{reinterpret_cast<uint64_t>(mr_->addr()),
                                        mr_->length(), mr_->rkey()};
  return endpoint;
}

absl::Status SessionImpl::CloseRemote(uint64_t connection_id) {
  v1::FastRequest request;
  request.mutable_close()->set_connection_id(connection_id);
  return fast_path_->Call(std::move(request)).status();
}

absl::StatusOr<std::unique_ptr<Connection>> SessionImpl::Connect(
    const std::string& host, const std::string& service,
    absl::Duration timeout) {
  ConnectSteps steps;
  absl::Time step_start = absl::Now();
  absl::StatusOr<PooledQp> pooled = pool_->Take();
  steps.pool_take_us = MicrosSince(step_start);
  if (!pooled.ok()) {
    return pooled.status();
  }
  v1::FastRequest request;
  v1::ConnectCall* call = request.mutable_connect();
  call->set_host(host);
  call->set_service(service);
  call->set_client_endpoint(verbs::EncodeEndpoint(EndpointOf(*pooled)));
  call->set_timeout_ms(static_cast<uint32_t>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout))));
  step_start = absl::Now();
  absl::StatusOr<v1::FastResponse> response = fast_path_->Call(request);
  const double round_trip_us = MicrosSince(step_start);
  if (!response.ok()) {
    // The QP never left INIT: it goes straight back.
    pool_->Return(*std::move(pooled));
    return response.status();
  }
  const uint64_t id = response->connect().connection_id();
  AddRemoteSteps(response->connect(), round_trip_us, steps);
  absl::StatusOr<verbs::QpEndpoint> server =
      verbs::DecodeEndpoint(response->connect().server_endpoint());
  step_start = absl::Now();
  absl::Status connected =
      server.ok() ? ConnectQp(*pooled, port_, *server) : server.status();
  steps.transitions_us = MicrosSince(step_start);
  if (!connected.ok()) {
    (void)CloseRemote(id);
    pool_->Recycle(*std::move(pooled));
    return connected;
  }
  auto connection = std::make_unique<ConnectionImpl>(
      *std::move(pooled), mr_.get(), *server, id, [this, id](PooledQp qp) {
        absl::Status closed = CloseRemote(id);
        pool_->Recycle(std::move(qp));
        return closed;
      });
  connection->set_connect_steps(steps);
  return std::unique_ptr<Connection>(std::move(connection));
}

absl::StatusOr<std::unique_ptr<Listener>> SessionImpl::Listen(
    const std::string& service, int backlog) {
  return ListenerImpl::Create(this, fast_path_socket_, options_.client_name,
                              service, backlog);
}

// ---- ListenerImpl ---------------------------------------------------------

absl::StatusOr<std::unique_ptr<Listener>> ListenerImpl::Create(
    SessionImpl* session, const std::string& socket_path,
    const std::string& client_name, const std::string& service, int backlog) {
  if (service.empty() || backlog < 1) {
    return absl::InvalidArgumentError(
        "Listen needs a service name and a backlog of at least 1");
  }
  absl::StatusOr<SeqpacketSocket> channel = FastPathClient::OpenChannel(
      socket_path, client_name, v1::FastHello::SERVICE);
  if (!channel.ok()) {
    return channel.status();
  }
  std::unique_ptr<ListenerImpl> listener(
      new ListenerImpl(session, *std::move(channel), service, backlog));
  v1::ServiceUp up;
  up.mutable_listen()->set_service(service);
  for (int i = 0; i < backlog; ++i) {
    absl::StatusOr<PooledQp> pooled = session->pool().Take();
    if (!pooled.ok()) {
      return pooled.status();
    }
    up.mutable_listen()->add_endpoints(
        verbs::EncodeEndpoint(session->EndpointOf(*pooled)));
    absl::MutexLock lock(&listener->mu_);
    listener->advertised_[pooled->qp->qpn()] = *std::move(pooled);
  }
  if (absl::Status sent = listener->SendUp(up); !sent.ok()) {
    return sent;
  }
  absl::StatusOr<SeqpacketSocket::Message> reply = listener->channel_.Receive();
  v1::ServiceDown down;
  if (!reply.ok() || !down.ParseFromString(reply->data) ||
      !down.has_listen_reply()) {
    return absl::UnavailableError("swiftd did not answer the listen call");
  }
  if (down.listen_reply().code() != 0) {
    return absl::Status(
        static_cast<absl::StatusCode>(down.listen_reply().code()),
        down.listen_reply().message());
  }
  if (absl::Status started = listener->StartThreads(); !started.ok()) {
    return started;
  }
  return std::unique_ptr<Listener>(std::move(listener));
}

absl::Status ListenerImpl::StartThreads() {
  for (int i = 0; i < kAcceptThreads; ++i) {
    const int fd = fcntl(channel_.fd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      return absl::ErrnoToStatus(errno, "dup of the service channel");
    }
    readers_.emplace_back(
        [this, receiver = SeqpacketSocket(UniqueFd(fd))]() mutable {
          ReadLoop(std::move(receiver));
        });
  }
  advertiser_ = std::thread([this] { AdvertiseLoop(); });
  return absl::OkStatus();
}

ListenerImpl::~ListenerImpl() {
  // Wakes the readers (shutdown acts on the socket, so on their dups too);
  // swiftd unregisters the service when the channel ends.
  shutdown(channel_.fd(), SHUT_RDWR);
  for (std::thread& reader : readers_) {
    reader.join();
  }
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (advertiser_.joinable()) {
    advertiser_.join();
  }
  std::deque<std::unique_ptr<ConnectionImpl>> unclaimed;
  {
    absl::MutexLock lock(&mu_);
    // Advertised QPs were never used: they go back to the session's pool.
    for (auto& [qpn, pooled] : advertised_) {
      session_->pool().Return(std::move(pooled));
    }
    advertised_.clear();
    unclaimed.swap(accepted_);
  }
  // Closing them takes mu_ (ReleaseConnection): outside the lock.
  unclaimed.clear();
}

absl::Status ListenerImpl::SendUp(const v1::ServiceUp& up) {
  absl::MutexLock lock(&send_mu_);
  return channel_.Send(up.SerializeAsString());
}

absl::Status ListenerImpl::Advertise(int count) {
  v1::ServiceUp up;
  absl::Status taken;
  int advertising = 0;
  for (; advertising < count; ++advertising) {
    absl::StatusOr<PooledQp> pooled = session_->pool().Take();
    if (!pooled.ok()) {
      taken = pooled.status();
      break;
    }
    up.mutable_add_endpoints()->add_endpoints(
        verbs::EncodeEndpoint(session_->EndpointOf(*pooled)));
    absl::MutexLock lock(&mu_);
    advertised_[pooled->qp->qpn()] = *std::move(pooled);
  }
  if (advertising < count) {
    absl::MutexLock lock(&mu_);
    owed_ += count - advertising;
  }
  // The QPs taken are advertised even when the rest could not be.
  if (advertising > 0) {
    if (absl::Status sent = SendUp(up); !sent.ok()) {
      return sent;
    }
  }
  return taken;
}

absl::Status ListenerImpl::AdvertiseOwed() {
  int count;
  {
    absl::MutexLock lock(&mu_);
    count = owed_;
    owed_ = 0;
  }
  return count > 0 ? Advertise(count) : absl::OkStatus();
}

void ListenerImpl::AdvertiseLoop() {
  auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || channel_closed_;
  };
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || channel_closed_ || owed_ > 0;
  };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&ready));
      if (ended()) {
        return;
      }
    }
    if (AdvertiseOwed().ok()) {
      continue;
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&ended), kAdvertiseRetry);
  }
}

void ListenerImpl::ReadLoop(SeqpacketSocket receiver) {
  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> message = receiver.Receive();
    v1::ServiceDown down;
    if (!message.ok() || !down.ParseFromString(message->data)) {
      break;
    }
    if (down.has_accept()) {
      HandleAccept(down.accept());
    } else if (down.has_closed()) {
      absl::MutexLock lock(&mu_);
      auto it = live_.find(down.closed().connection_id());
      if (it != live_.end()) {
        it->second->MarkPeerClosed();
      }
    }
  }
  // One reader ending (swiftd went away, or sent garbage) ends them all.
  shutdown(channel_.fd(), SHUT_RDWR);
  absl::MutexLock lock(&mu_);
  channel_closed_ = true;
}

void ListenerImpl::HandleAccept(const v1::AcceptEvent& accept) {
  const absl::Time arrived = absl::Now();
  PooledQp pooled;
  {
    absl::MutexLock lock(&mu_);
    auto it = advertised_.find(accept.qpn());
    if (it != advertised_.end()) {
      pooled = std::move(it->second);
      advertised_.erase(it);
    }
  }
  v1::ServiceUp up;
  v1::AcceptReply* reply = up.mutable_accept_reply();
  reply->set_event_id(accept.event_id());
  absl::StatusOr<verbs::QpEndpoint> client =
      verbs::DecodeEndpoint(accept.client_endpoint());
  const absl::Time transitions_start = absl::Now();
  absl::Status connected =
      pooled.qp == nullptr
          ? absl::NotFoundError(
                absl::StrCat("QP ", accept.qpn(), " is not advertised here"))
          : (client.ok() ? ConnectQp(pooled, session_->port(), *client)
                         : client.status());
  ConnectSteps steps;
  steps.transitions_us = MicrosSince(transitions_start);
  reply->set_code(static_cast<int>(connected.code()));
  reply->set_message(std::string(connected.message()));
  if (connected.ok()) {
    const uint64_t id = accept.connection_id();
    auto connection = std::make_unique<ConnectionImpl>(
        std::move(pooled), &session_->mr(), *client, id,
        [this, id](PooledQp qp) {
          return ReleaseConnection(id, std::move(qp));
        });
    connection->set_connect_steps(steps);
    absl::MutexLock lock(&mu_);
    live_[id] = connection.get();
    accepted_.push_back(std::move(connection));
  }
  // Answer first: the client waits on it. Then the QP taken is owed: the
  // advertiser replaces it, batched with the burst's others, unless swiftd's
  // pool runs low, when it is replaced right here.
  reply->set_accept_us(WireMicros(absl::Now() - arrived));
  (void)SendUp(up);
  bool refill_now;
  {
    absl::MutexLock lock(&mu_);
    ++owed_;
    refill_now = static_cast<int>(advertised_.size()) < (backlog_ + 1) / 2;
  }
  if (refill_now) {
    (void)AdvertiseOwed();
  }
}

absl::Status ListenerImpl::ReleaseConnection(uint64_t id, PooledQp pooled) {
  {
    absl::MutexLock lock(&mu_);
    live_.erase(id);
  }
  session_->pool().Recycle(std::move(pooled));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Connection>> ListenerImpl::Accept(
    absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !accepted_.empty() || channel_closed_;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("no connection to '", service_, "' within ",
                     absl::FormatDuration(timeout)));
  }
  if (accepted_.empty()) {
    return absl::UnavailableError(
        absl::StrCat("swiftd closed the channel of service '", service_, "'"));
  }
  std::unique_ptr<Connection> connection = std::move(accepted_.front());
  accepted_.pop_front();
  return connection;
}

}  // namespace swift
