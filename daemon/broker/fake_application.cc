// FakeApplication implementation; see fake_application.h.
#include "daemon/broker/fake_application.h"

#include <sys/socket.h>

#include <utility>

#include "glog/logging.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"

namespace swift {

verbs::QpEndpoint FakeApplication::Endpoint(int index) {
  verbs::QpEndpoint endpoint;
  endpoint.qpn = 0x100 + static_cast<uint32_t>(index);
  endpoint.psn = 0x1234;
  return endpoint;
}

FakeApplication::FakeApplication(ServiceRegistry* registry, Options options)
    : registry_(registry), options_(std::move(options)) {
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> pair =
      SeqpacketSocket::Pair();
  CHECK(pair.ok()) << pair.status();
  app_.emplace(std::move(pair->first));
  FastPathCaller caller;
  caller.client_name = "fake";
  caller.pid = 42;
  registry_thread_ = std::thread(
      [this, caller, channel = std::move(pair->second)]() mutable {
        registry_->ServeChannel(std::move(channel), caller);
      });
  v1::ServiceUp listen;
  listen.mutable_listen()->set_service(options_.service);
  {
    absl::MutexLock lock(&mu_);
    for (; next_index_ < options_.endpoints; ++next_index_) {
      listen.mutable_listen()->add_endpoints(
          verbs::EncodeEndpoint(Endpoint(next_index_)));
    }
  }
  SendUp(listen.SerializeAsString());
  app_thread_ = std::thread([this] { Run(); });
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::optional<absl::Status>* status) { return status->has_value(); },
      &listen_status_));
}

FakeApplication::~FakeApplication() { Leave(); }

void FakeApplication::SendUp(const std::string& bytes) {
  absl::MutexLock lock(&send_mu_);
  (void)app_->Send(bytes);
}

void FakeApplication::Run() {
  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> message = app_->Receive();
    if (!message.ok()) {
      break;
    }
    v1::ServiceDown down;
    if (!down.ParseFromString(message->data)) {
      continue;
    }
    if (down.has_listen_reply()) {
      absl::MutexLock lock(&mu_);
      listen_status_ = DecodeStatus(down.listen_reply());
      takes_replacements_ = down.listen_reply().takes_replacements();
    } else if (down.has_accept()) {
      {
        absl::MutexLock lock(&mu_);
        ++accepts_;
      }
      if (!options_.answer) {
        continue;
      }
      absl::SleepFor(options_.accept_delay);
      v1::ServiceUp up;
      up.mutable_accept_reply()->set_event_id(down.accept().event_id());
      EncodeStatus(options_.accept_status, up.mutable_accept_reply());
      up.mutable_accept_reply()->set_accept_us(7);
      {
        absl::MutexLock lock(&mu_);
        for (int i = 0; i < options_.replacements_per_accept;
             ++i, ++next_index_) {
          up.mutable_accept_reply()->add_replacements(
              verbs::EncodeEndpoint(Endpoint(next_index_)));
        }
      }
      SendUp(up.SerializeAsString());
    } else if (down.has_closed()) {
      absl::MutexLock lock(&mu_);
      closed_.push_back(down.closed().connection_id());
    }
  }
  absl::MutexLock lock(&mu_);
  if (!listen_status_.has_value()) {
    listen_status_ = absl::UnavailableError("channel closed");
  }
}

absl::Status FakeApplication::listen_status() const {
  absl::MutexLock lock(&mu_);
  return *listen_status_;
}

bool FakeApplication::takes_replacements() const {
  absl::MutexLock lock(&mu_);
  return takes_replacements_;
}

void FakeApplication::AddEndpoints(int count) {
  v1::ServiceUp up;
  {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < count; ++i, ++next_index_) {
      up.mutable_add_endpoints()->add_endpoints(
          verbs::EncodeEndpoint(Endpoint(next_index_)));
    }
  }
  SendUp(up.SerializeAsString());
}

void FakeApplication::CloseConnection(uint64_t connection_id) {
  v1::ServiceUp up;
  up.mutable_connection_closed()->set_connection_id(connection_id);
  SendUp(up.SerializeAsString());
}

int FakeApplication::accepts() const {
  absl::MutexLock lock(&mu_);
  return accepts_;
}

std::vector<uint64_t> FakeApplication::closed_connections() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

bool FakeApplication::WaitForCloses(size_t count) const {
  absl::MutexLock lock(&mu_);
  auto heard = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_.size() >= count;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&heard), absl::Seconds(5));
}

void FakeApplication::Leave() {
  {
    absl::MutexLock lock(&mu_);
    if (left_) {
      return;
    }
    left_ = true;
  }
  // Wakes both sides: the registry sees the channel end.
  shutdown(app_->fd(), SHUT_RDWR);
  app_thread_.join();
  registry_thread_.join();
}

}  // namespace swift
