// ServiceRegistry's accepts: a peer's connect handed to the service's
// application and settled once, by its answer, its channel's end or the
// deadline (see service_registry.h); the rest is in service_registry.cc.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "daemon/broker/service_registry.h"
#include "proto/wire_status.h"

namespace swift {

void ServiceRegistry::HandleAcceptReply(Service& service,
                                        const v1::AcceptReply& reply) {
  bool orphaned = false;
  uint32_t qpn = 0;
  {
    absl::ReleasableMutexLock lock(&mu_);
    auto it = service.pending.find(reply.event_id());
    if (it != service.pending.end()) {
      PendingAccept pending = std::move(it->second);
      service.pending.erase(it);
      absl::StatusOr<Accepted> outcome =
          SettleLocked(service, reply.event_id(), pending, DecodeStatus(reply),
                       reply.accept_us());
      lock.Release();
      pending.done(std::move(outcome));
      return;
    }
    // The accept gave up waiting (deadline) before the application
    // answered: the QP is connected to nobody. Have it recycled.
    auto connection = service.connections.find(reply.event_id());
    if (connection == service.connections.end()) {
      return;
    }
    qpn = connection->second;
    service.connections.erase(connection);
    // A failed accept already took the QP out of the application's pool.
    orphaned = reply.code() == 0;
  }
  if (orphaned) {
    v1::ServiceDown closed;
    closed.mutable_closed()->set_connection_id(reply.event_id());
    closed.mutable_closed()->set_qpn(qpn);
    (void)SendDown(service, closed);
  }
}

absl::StatusOr<ServiceRegistry::Accepted> ServiceRegistry::SettleLocked(
    Service& service, uint64_t id, const PendingAccept& pending,
    const absl::Status& status, uint32_t accept_us) {
  if (!status.ok()) {
    service.connections.erase(id);
    ++service.refused;
    return status;
  }
  ++service.accepted;
  connection_services_[id] =
      ConnectionOwner{service.name, pending.peer, pending.peer_incarnation,
                      pending.client_connection_id};
  if (auto seen = peer_incarnations_.find(pending.peer);
      seen != peer_incarnations_.end() && pending.peer_incarnation != 0 &&
      seen->second != pending.peer_incarnation) {
    // A call of an older incarnation finished after the newer one's first
    // call (the restart raced it): the next call scans again.
    seen->second = 0;
  }
  return Accepted{pending.pooled, id, absl::Now() - pending.sent_at,
                  absl::Microseconds(accept_us)};
}

absl::StatusOr<ServiceRegistry::Accepted> ServiceRegistry::Accept(
    const std::string& name, const verbs::QpEndpoint& client,
    absl::Time deadline, const std::string& peer, uint64_t peer_incarnation,
    uint64_t client_connection_id) {
  struct Outcome {
    absl::Notification given;
    absl::StatusOr<Accepted> accepted;
  };
  auto outcome = std::make_shared<Outcome>();
  absl::StatusOr<StartedAccept> started = StartAccept(
      name, client, deadline, peer, peer_incarnation, client_connection_id,
      [outcome](absl::StatusOr<Accepted> accepted) {
        outcome->accepted = std::move(accepted);
        outcome->given.Notify();
      });
  if (!started.ok()) {
    return started.status();
  }
  if (!outcome->given.WaitForNotificationWithDeadline(started->deadline)) {
    // Expired here, or its outcome raced the deadline: either way it is
    // given now or in a moment.
    (void)ExpireAccept(*started);
    outcome->given.WaitForNotification();
  }
  return std::move(outcome->accepted);
}

absl::StatusOr<ServiceRegistry::StartedAccept> ServiceRegistry::StartAccept(
    const std::string& name, const verbs::QpEndpoint& client,
    absl::Time deadline, const std::string& peer, uint64_t peer_incarnation,
    uint64_t client_connection_id, AcceptDone done) {
  std::shared_ptr<Service> service;
  uint32_t qpn = 0;
  uint64_t id = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = services_.find(name);
    if (it == services_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no service '", name, "' listens on this host"));
    }
    service = it->second;
    if (service->pool.empty()) {
      ++service->refused;
      return absl::ResourceExhaustedError(absl::StrCat(
          "service '", name, "' has no pooled QP left; retry later"));
    }
    PendingAccept pending;
    pending.pooled = service->pool.front();
    service->pool.pop_front();
    quotas_->Release(service->owner_uid,
                     BrokerQuotas::Resource::kPooledEndpoints);
    id = next_id_++;
    qpn = pending.pooled.qpn;
    pending.peer = peer;
    pending.peer_incarnation = peer_incarnation;
    pending.client_connection_id = client_connection_id;
    pending.sent_at = absl::Now();
    pending.done = std::move(done);
    service->pending.emplace(id, std::move(pending));
    // Recorded now so that a late reply finds the QP to recycle.
    service->connections[id] = qpn;
  }

  v1::ServiceDown event;
  event.mutable_accept()->set_event_id(id);
  event.mutable_accept()->set_connection_id(id);
  event.mutable_accept()->set_qpn(qpn);
  event.mutable_accept()->set_client_endpoint(verbs::EncodeEndpoint(client));
  if (absl::Status sent = SendDown(*service, event); !sent.ok()) {
    absl::MutexLock lock(&mu_);
    // Unless the service's end already gave this accept its outcome.
    if (service->pending.erase(id) > 0) {
      service->connections.erase(id);
      ++service->refused;
      return sent;
    }
  }
  return StartedAccept{name, id,
                       std::min(deadline, absl::Now() + accept_timeout_)};
}

bool ServiceRegistry::ExpireAccept(const StartedAccept& started) {
  AcceptDone done;
  {
    absl::MutexLock lock(&mu_);
    auto service = services_.find(started.service);
    if (service == services_.end()) {
      return false;  // It went away, and gave its accepts their outcome.
    }
    auto it = service->second->pending.find(started.id);
    if (it == service->second->pending.end()) {
      return false;
    }
    done = std::move(it->second.done);
    service->second->pending.erase(it);
    // service->connections keeps the QP, so that a late reply recycles it.
    ++service->second->refused;
  }
  done(absl::DeadlineExceededError(
      absl::StrCat("service '", started.service,
                   "' did not accept the connection in time")));
  return true;
}

}  // namespace swift
