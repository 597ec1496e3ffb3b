// ServiceRegistry implementation; see service_registry.h. Its accepts are
// in service_registry_accept.cc.
#include "daemon/broker/service_registry.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

v1::ServiceDown ListenReplyFor(const absl::Status& status) {
  v1::ServiceDown down;
  EncodeStatus(status, down.mutable_listen_reply());
  down.mutable_listen_reply()->set_takes_replacements(status.ok());
  return down;
}

}  // namespace

ServiceRegistry::ServiceRegistry(absl::Duration accept_timeout,
                                 BrokerQuotas* quotas)
    : accept_timeout_(accept_timeout),
      own_quotas_(quotas == nullptr ? std::make_unique<BrokerQuotas>()
                                    : nullptr),
      quotas_(quotas == nullptr ? own_quotas_.get() : quotas) {}

void ServiceRegistry::ServeChannel(SeqpacketSocket channel,
                                   const FastPathCaller& caller) {
  auto service = std::make_shared<Service>();
  service->channel = &channel;
  service->owner = absl::StrCat(caller.client_name, " (pid ", caller.pid, ")");
  service->owner_uid = caller.uid;

  absl::StatusOr<SeqpacketSocket::Message> first = channel.Receive();
  if (!first.ok()) {
    return;
  }
  v1::ServiceUp listen;
  absl::Status registered;
  if (!listen.ParseFromString(first->data) || !listen.has_listen()) {
    registered = absl::InvalidArgumentError(
        "the first message on a service channel must be a ListenCall");
  } else {
    registered = Register(service, listen.listen());
  }
  (void)channel.Send(ListenReplyFor(registered).SerializeAsString());
  if (registered.ok() && names_changed_) names_changed_();
  if (!registered.ok()) {
    return;
  }
  LOG(INFO) << "Service '" << service->name << "' listening for "
            << service->owner << ", uid " << service->owner_uid;
  bool refusal_logged = false;

  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> message = channel.Receive();
    if (!message.ok()) {
      break;
    }
    v1::ServiceUp up;
    if (!up.ParseFromString(message->data)) {
      LOG(ERROR) << "Malformed message on service '" << service->name
                 << "' channel; closing it";
      break;
    }
    if (up.has_add_endpoints()) {
      AddOrRefuse(*service, up.add_endpoints().endpoints(), &refusal_logged);
    } else if (up.has_accept_reply()) {
      // The accept first: its answer goes to the client's swiftd from here.
      HandleAcceptReply(*service, up.accept_reply());
      if (!up.accept_reply().replacements().empty()) {
        AddOrRefuse(*service, up.accept_reply().replacements(),
                    &refusal_logged);
      }
    } else if (up.has_connection_closed()) {
      EndByService(*service, up.connection_closed().connection_id());
    }
  }
  Unregister(service);
  if (names_changed_) names_changed_();
  LOG(INFO) << "Service '" << service->name << "' closed";
}

void ServiceRegistry::AddOrRefuse(
    Service& service,
    const google::protobuf::RepeatedPtrField<std::string>& encoded,
    bool* refusal_logged) {
  absl::Status added;
  {
    absl::MutexLock lock(&mu_);
    added = AddEndpoints(service, encoded);
  }
  if (added.ok()) {
    return;
  }
  // Once per channel in the log; the application hears each time.
  LOG_IF(WARNING, !*refusal_logged) << "Service '" << service.name << "' (uid "
                                    << service.owner_uid << "): " << added;
  *refusal_logged = true;
  v1::ServiceDown refused;
  EncodeStatus(added, refused.mutable_endpoints_refused());
  refused.mutable_endpoints_refused()->set_count(encoded.size());
  (void)SendDown(service, refused);
}

absl::Status ServiceRegistry::Register(const std::shared_ptr<Service>& service,
                                       const v1::ListenCall& listen) {
  if (listen.service().empty()) {
    return absl::InvalidArgumentError("a service needs a name");
  }
  service->name = listen.service();
  absl::MutexLock lock(&mu_);
  if (auto it = services_.find(service->name); it != services_.end()) {
    const Service& existing = *it->second;
    // Names are global and first-come; another tenant's is not to be
    // taken, and not described to whoever asks (issue 10, finding 5).
    if (service->owner_uid != existing.owner_uid && service->owner_uid != 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "service '", service->name,
          "' is listening for another user; choose another name"));
    }
    return absl::AlreadyExistsError(
        absl::StrCat("service '", service->name, "' is already listening (",
                     existing.owner, ", uid ", existing.owner_uid, ")"));
  }
  SWIFT_RETURN_IF_ERROR(
      quotas_->Acquire(service->owner_uid, BrokerQuotas::Resource::kServices));
  if (absl::Status added = AddEndpoints(*service, listen.endpoints());
      !added.ok()) {
    quotas_->Release(service->owner_uid, BrokerQuotas::Resource::kServices);
    return added;
  }
  services_[service->name] = service;
  return absl::OkStatus();
}

absl::Status ServiceRegistry::AddEndpoints(
    Service& service,
    const google::protobuf::RepeatedPtrField<std::string>& encoded) {
  // Checked before decoding: a flood costs swiftd no more than the check.
  const int64_t per_service = quotas_->limits().pooled_endpoints_per_service;
  const int64_t pooled = static_cast<int64_t>(service.pool.size());
  if (encoded.size() > per_service - pooled) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "service '", service.name, "' has ", pooled,
        " pooled endpoints and advertised ", encoded.size(),
        " more: a service's quota is ", per_service, " (",
        kMaxPooledEndpointsPerServiceFlag, ")"));
  }
  std::vector<verbs::QpEndpoint> decoded;
  decoded.reserve(encoded.size());
  for (const std::string& bytes : encoded) {
    absl::StatusOr<verbs::QpEndpoint> endpoint = verbs::DecodeEndpoint(bytes);
    if (!endpoint.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad pooled endpoint: ", endpoint.status().message()));
    }
    decoded.push_back(*endpoint);
  }
  SWIFT_RETURN_IF_ERROR(quotas_->Acquire(service.owner_uid,
                                         BrokerQuotas::Resource::kPooledEndpoints,
                                         encoded.size()));
  service.pool.insert(service.pool.end(), decoded.begin(), decoded.end());
  return absl::OkStatus();
}

void ServiceRegistry::EndByService(Service& service, uint64_t id) {
  absl::MutexLock lock(&mu_);
  // Only its own accepted connections: ids are sequential.
  if (service.pending.contains(id) || !service.connections.contains(id)) {
    return;
  }
  service.connections.erase(id);
  NoticeEndedLocked(id);
}

void ServiceRegistry::NoticeEndedLocked(uint64_t id) {
  auto it = connection_services_.find(id);
  if (it == connection_services_.end()) {
    return;
  }
  const ConnectionOwner& owner = it->second;
  closed_notices_.Add(owner.peer, owner.peer_incarnation,
                      owner.client_connection_id, absl::Now());
  connection_services_.erase(it);
}

void ServiceRegistry::Unregister(const std::shared_ptr<Service>& service) {
  {
    absl::MutexLock send_lock(&service->send_mu);
    service->closed = true;
    service->channel = nullptr;
  }
  absl::ReleasableMutexLock lock(&mu_);
  auto it = services_.find(service->name);
  if (it != services_.end() && it->second == service) {
    services_.erase(it);
    // Only a registered service holds quota (its pool's included).
    quotas_->Release(service->owner_uid, BrokerQuotas::Resource::kServices);
    quotas_->Release(service->owner_uid,
                     BrokerQuotas::Resource::kPooledEndpoints,
                     static_cast<int64_t>(service->pool.size()));
    service->pool.clear();
  }
  // Their QPs went with the application (or it will never hear a close
  // again): their clients' swiftds are told.
  for (const auto& [id, qpn] : service->connections) {
    NoticeEndedLocked(id);
  }
  // Their handshakes end here: each caller hears it once the lock is
  // released.
  std::vector<std::pair<AcceptDone, absl::StatusOr<Accepted>>> outcomes;
  for (auto& [id, pending] : service->pending) {
    outcomes.emplace_back(std::move(pending.done),
                          SettleLocked(*service, id, pending,
                                       absl::UnavailableError(absl::StrCat(
                                           "service '", service->name,
                                           "' went away during the handshake")),
                                       0));
  }
  service->pending.clear();
  lock.Release();
  for (auto& [done, outcome] : outcomes) {
    done(std::move(outcome));
  }
}

absl::Status ServiceRegistry::SendDown(Service& service,
                                       const v1::ServiceDown& message) {
  absl::MutexLock lock(&service.send_mu);
  if (service.closed || service.channel == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("service '", service.name, "' went away"));
  }
  return service.channel->Send(message.SerializeAsString());
}

absl::Status ServiceRegistry::Close(uint64_t connection_id,
                                    const std::string& peer) {
  std::shared_ptr<Service> service;
  uint32_t qpn = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = connection_services_.find(connection_id);
    if (it == connection_services_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no connection ", connection_id, " on this host"));
    }
    // Ids are sequential: one authenticated peer could otherwise close
    // the connections another made (issue 10, finding 4).
    if (it->second.peer != peer) {
      return absl::PermissionDeniedError(absl::StrCat(
          "connection ", connection_id,
          " was made by another peer: only the swiftd that made a "
          "connection may close it"));
    }
    auto service_it = services_.find(it->second.service);
    connection_services_.erase(it);
    if (service_it == services_.end()) {
      return absl::NotFoundError("the connection's service went away");
    }
    service = service_it->second;
    auto connection = service->connections.find(connection_id);
    if (connection != service->connections.end()) {
      qpn = connection->second;
      service->connections.erase(connection);
    }
  }
  v1::ServiceDown closed;
  closed.mutable_closed()->set_connection_id(connection_id);
  closed.mutable_closed()->set_qpn(qpn);
  return SendDown(*service, closed);
}

int ServiceRegistry::CloseOlderIncarnations(const std::string& peer,
                                            uint64_t incarnation) {
  if (incarnation == 0) {
    return 0;
  }
  std::vector<uint64_t> stale;
  {
    absl::MutexLock lock(&mu_);
    uint64_t& seen = peer_incarnations_[peer];
    if (seen == incarnation) {
      return 0;  // The common case: scanned when it was first seen.
    }
    seen = incarnation;
    for (const auto& [id, owner] : connection_services_) {
      if (owner.peer == peer && owner.peer_incarnation != 0 &&
          owner.peer_incarnation != incarnation) {
        stale.push_back(id);
      }
    }
  }
  int closed = 0;
  for (uint64_t id : stale) {
    // Close() checks the owner again: a racing close simply wins.
    if (Close(id, peer).ok()) {
      ++closed;
    }
  }
  if (closed > 0) {
    LOG(INFO) << "Closed " << closed << " connection(s) of swiftd " << peer
              << " from before its restart (incarnation " << incarnation
              << " now)";
  }
  return closed;
}

absl::Status ServiceRegistry::CloseAbandoned(const std::string& peer,
                                             uint64_t client_connection_id) {
  uint64_t id = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [connection_id, owner] : connection_services_) {
      if (owner.peer == peer && client_connection_id != 0 &&
          owner.client_connection_id == client_connection_id) {
        id = connection_id;
        break;
      }
    }
  }
  if (id == 0) {
    return absl::NotFoundError(absl::StrCat(
        "no connection made for ", peer, "'s connect ", client_connection_id));
  }
  LOG(INFO) << "Closing connection " << id << ": swiftd " << peer
            << " gave up on its connect " << client_connection_id;
  return Close(id, peer);
}

std::vector<std::string> ServiceRegistry::ServiceNames() const {
  std::vector<std::string> names;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, service] : services_) {
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<ServiceRegistry::ServiceStats> ServiceRegistry::Stats() const {
  std::vector<ServiceStats> stats;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, service] : services_) {
    ServiceStats entry;
    entry.name = name;
    entry.owner = service->owner;
    entry.owner_uid = service->owner_uid;
    entry.pooled = static_cast<int>(service->pool.size());
    entry.connections =
        static_cast<int>(service->connections.size() - service->pending.size());
    entry.accepted = service->accepted;
    entry.refused = service->refused;
    stats.push_back(entry);
  }
  std::sort(stats.begin(), stats.end(),
            [](const ServiceStats& a, const ServiceStats& b) {
              return a.name < b.name;
            });
  return stats;
}

}  // namespace swift
