// ListenerImpl; see listener_impl.h and swift/session.h.
#include "client/listener_impl.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/connect_steps.h"
#include "client/fast_path_client.h"
#include "client/rc_qp_factory.h"
#include "common/thread_name.h"
#include "common/wire_micros.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

// Reader threads per listener: accepts in flight at the application at
// once. Two keep both CPUs of a small host busy with RTR/RTS; more would
// only contend for them (and a device serializes its own QP commands).
constexpr int kAcceptThreads = 2;

// How long the advertiser waits after failing to take QPs (e.g. at the
// device's QP limit) before it tries again.
constexpr absl::Duration kAdvertiseRetry = absl::Milliseconds(10);

}  // namespace

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
  if (absl::Status listening = DecodeStatus(down.listen_reply());
      !listening.ok()) {
    return listening;
  }
  listener->takes_replacements_ = down.listen_reply().takes_replacements();
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
          NameThisThread("swift-accept");
          ReadLoop(std::move(receiver));
        });
  }
  advertiser_ = std::thread([this] {
    NameThisThread("swift-advertise");
    AdvertiseLoop();
  });
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
          : (client.ok() ? ConnectPooledQp(pooled, session_->port(), *client)
                         : client.status());
  ConnectSteps steps;
  steps.transitions_us = MicrosSince(transitions_start);
  EncodeStatus(connected, reply);
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
  // The QP taken is replaced in the answer itself when the pool has one
  // ready: one message for swiftd to read, and no advertiser to wake. It
  // is advertised here before swiftd can hand it to a client.
  bool replaced = false;
  if (takes_replacements_) {
    if (std::optional<PooledQp> replacement = session_->pool().TakeReady()) {
      reply->add_replacements(
          verbs::EncodeEndpoint(session_->EndpointOf(*replacement)));
      absl::MutexLock lock(&mu_);
      advertised_[replacement->qp->qpn()] = *std::move(replacement);
      replaced = true;
    }
  }
  reply->set_accept_us(WireMicros(absl::Now() - arrived));
  (void)SendUp(up);
  if (replaced) {
    return;
  }
  // Otherwise it is owed: the advertiser replaces it, batched with the
  // burst's others, unless swiftd's pool runs low, when it is replaced
  // right here.
  bool refill_now;
  {
    absl::MutexLock lock(&mu_);
    ++owed_;
    refill_now =
        static_cast<int>(advertised_.size()) < InlineRefillBelow(backlog_);
  }
  if (refill_now) {
    (void)AdvertiseOwed();
  }
}

absl::Status ListenerImpl::ReleaseConnection(uint64_t id, PooledQp pooled) {
  bool closed_here = true;
  {
    absl::MutexLock lock(&mu_);
    auto it = live_.find(id);
    if (it != live_.end()) {
      closed_here = !it->second->peer_closed();
      live_.erase(it);
    }
  }
  if (closed_here) {
    // swiftd ends it and tells the client's swiftd, so that a client that
    // holds it pre-connected never hands it out. Nothing to tell when the
    // channel went with swiftd.
    v1::ServiceUp up;
    up.mutable_connection_closed()->set_connection_id(id);
    (void)SendUp(up);
  }
  // Closed here first, the client may not know yet (a pre-connected pair
  // it holds still looks whole until its swiftd hears): the QP rests
  // before it can serve anyone else. Closed by the client, it is reused
  // at once.
  session_->pool().Recycle(std::move(pooled), /*rest=*/closed_here);
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
