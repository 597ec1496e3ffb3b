// Broker implementation; see broker.h.
#include "daemon/broker/broker.h"

#include <algorithm>
#include <iterator>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "common/wire_micros.h"
#include "daemon/broker/peer_answer.h"
#include "daemon/broker/peer_calls.h"
#include "glog/logging.h"

namespace swift {
namespace {

// The first connection id of this swiftd: random, below 2^48, so that ids
// do not repeat across restarts and never run out.
uint64_t FirstConnectionId() {
  std::random_device random;
  const uint64_t high = random();
  return ((high << 16) | (random() & 0xffff)) + 1;
}

}  // namespace

Broker::Broker(PeerDirectory* peers, AdmissionController* admission,
               Options options)
    : peers_(peers),
      admission_(admission),
      options_(options),
      own_quotas_(options.quotas == nullptr ? std::make_unique<BrokerQuotas>()
                                            : nullptr),
      quotas_(options.quotas == nullptr ? own_quotas_.get() : options.quotas),
      next_id_(FirstConnectionId()),
      closer_(peers, options.default_timeout),
      watcher_(
          peers, options.watch_interval, [this] { return WatchedPeers(); },
          [this](const std::string& address,
                 const absl::StatusOr<peer::v1::WatchResponse>& watched) {
            OnPeerWatched(address, watched);
          }) {}

Broker::~Broker() = default;

void Broker::CountFailure(uid_t uid, const absl::Status& status) {
  const std::string reason = absl::StatusCodeToString(status.code());
  absl::MutexLock lock(&mu_);
  ++counters_.failed[reason];
  ++tenant_counters_[uid].failed[reason];
}

size_t Broker::undelivered_closes() const { return closer_.undelivered(); }

int Broker::peer_entries() const {
  absl::flat_hash_set<std::string> addresses;
  for (const PeerDirectory::PeerView& view : peers_->List()) {
    addresses.insert(view.address);
  }
  return static_cast<int>(addresses.size());
}

absl::Status Broker::BeginDial(const std::string& host, bool* first_dial) {
  *first_dial = false;
  // Anything but "ip:port" is a name from --peers (configured, so bounded)
  // or nothing the directory will dial.
  const size_t colon = host.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(host.substr(colon + 1), &port)) {
    return absl::OkStatus();
  }
  absl::MutexLock lock(&mu_);
  if (known_hosts_.contains(host) || dialing_.contains(host)) {
    return absl::OkStatus();  // The common case: no listing.
  }
  // Is `host` an address the directory knows (configured, or with an
  // entry)? Entries are never removed, so once known, known.
  // Listed under mu_ (the directory never calls the broker), so that
  // concurrent first dials are all counted.
  absl::flat_hash_set<std::string> addresses;
  bool known = false;
  for (const PeerDirectory::PeerView& view : peers_->List()) {
    addresses.insert(view.address);
    known = known || view.address == host;
  }
  if (known) {
    known_hosts_.insert(host);
    return absl::OkStatus();
  }
  // A tenant named the "ip:port"s of hosts it ran itself and made swiftd
  // dial them all (issue 10, finding 5): new peers take room, which is
  // bounded.
  const int entries = static_cast<int>(addresses.size());
  if (entries + static_cast<int>(dialing_.size()) >=
      options_.max_peer_entries) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "swiftd knows ", entries, " peers and will not dial another ('", host,
        "'): its bound is ", options_.max_peer_entries,
        " (--max_peer_entries); peers named in --peers are always reachable"));
  }
  dialing_.insert(host);
  *first_dial = true;
  return absl::OkStatus();
}

void Broker::EndFirstDial(const std::string& host, bool known) {
  absl::MutexLock lock(&mu_);
  dialing_.erase(host);
  if (known) {
    known_hosts_.insert(host);
  }
}

absl::StatusOr<v1::ConnectResult> Broker::Connect(const FastPathCaller& caller,
                                                  const v1::ConnectCall& call) {
  const absl::Time start = absl::Now();
  // Clamped: a slot, a thread and a peer's attention are held this long.
  const absl::Duration timeout =
      call.timeout_ms() > 0
          ? std::min(absl::Milliseconds(call.timeout_ms()),
                     options_.max_timeout)
          : std::min(options_.default_timeout, options_.max_timeout);
  const absl::Time deadline = start + timeout;
  absl::Status result;
  if (call.service().empty()) {
    result = absl::InvalidArgumentError("connect needs a service name");
  } else if (absl::StatusOr<verbs::QpEndpoint> endpoint =
                 verbs::DecodeEndpoint(call.client_endpoint());
             !endpoint.ok()) {
    result = absl::InvalidArgumentError(
        absl::StrCat("bad client endpoint: ", endpoint.status().message()));
  }
  std::string host = call.host();
  if (result.ok() && host.empty()) {
    if (options_.resolver == nullptr) {
      result = absl::InvalidArgumentError(absl::StrCat(
          "connect to service '", call.service(),
          "' names no host, and swiftd has no --directory to find one: "
          "name the host"));
    } else if (absl::StatusOr<std::string> picked =
                   options_.resolver->PickHostForService(call.service());
               picked.ok()) {
      host = *std::move(picked);
    } else {
      result = picked.status();
    }
  }
  if (result.ok()) {
    // Taken before the handshake, so that concurrent connects cannot
    // overshoot the quota; given back below on failure, or at close.
    result = quotas_->Acquire(caller.uid,
                              BrokerQuotas::Resource::kConnections);
  }
  bool first_dial = false;
  if (result.ok()) {
    result = BeginDial(host, &first_dial);
    if (!result.ok()) {
      quotas_->Release(caller.uid, BrokerQuotas::Resource::kConnections);
    }
  }
  if (!result.ok()) {
    CountFailure(caller.uid, result);
    return result;
  }

  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
  }
  // A restarted peer is retried once with fresh metadata: one that said
  // so (kAborted), and one whose cached link port refused the dial (it
  // restarted before our watch noticed: the call never left).
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> peer =
        peers_->Get(host, deadline);
    if (first_dial) {
      // Whatever the outcome, the directory has decided on an entry.
      EndFirstDial(host, peer.ok());
      first_dial = false;
    }
    if (!peer.ok()) {
      result = peer.status();
      break;
    }
    const absl::Time admitting = absl::Now();
    absl::StatusOr<AdmissionController::Ticket> ticket = admission_->Admit(
        (*peer)->address, caller.channel_id, caller.uid, deadline);
    const absl::Time admitted = absl::Now();
    if (!ticket.ok()) {
      result = ticket.status();
      break;
    }
    peer::v1::ConnectRequest request;
    request.set_api_version(kControlApiVersion);
    request.set_from_incarnation(peers_->incarnation());
    request.set_expected_incarnation((*peer)->hello.incarnation());
    request.set_service(call.service());
    request.set_client_endpoint(call.client_endpoint());
    request.set_client_connection_id(id);
    absl::StatusOr<peer::v1::ConnectResponse> response =
        CallPeerConnect(**peer, request, deadline);
    const absl::Duration peer_call = absl::Now() - admitted;
    peers_->CountCall((*peer)->address, response.status());
    if (response.ok()) {
      Connection connection;
      connection.view.id = id;
      connection.view.peer = (*peer)->address;
      connection.view.service = call.service();
      connection.view.server_connection_id = response->server_connection_id();
      connection.view.client_pid = caller.pid;
      connection.view.client_name = caller.client_name;
      connection.view.uid = caller.uid;
      connection.view.connected_at = absl::Now();
      connection.view.handshake_time = absl::Now() - start;
      connection.channel_id = caller.channel_id;
      connection.peer_incarnation = response->incarnation();
      // The peer answers again: close what it did not hear meanwhile.
      closer_.PeerAnswered((*peer)->address);
      absl::MutexLock lock(&mu_);
      connections_[id] = std::move(connection);
      ++counters_.connected;
      ++tenant_counters_[caller.uid].connected;
      v1::ConnectResult connected;
      connected.set_server_endpoint(response->server_endpoint());
      connected.set_connection_id(id);
      connected.set_host(host);
      connected.set_admission_us(WireMicros(admitted - admitting));
      connected.set_peer_call_us(WireMicros(peer_call));
      connected.set_remote_serve_us(response->serve_us());
      connected.set_remote_app_wait_us(response->app_wait_us());
      connected.set_app_accept_us(response->app_accept_us());
      connected.set_broker_us(WireMicros(absl::Now() - start));
      if (options_.on_connected) {
        options_.on_connected(caller.uid, connected);
      }
      return connected;
    }
    result = response.status();
    // kAborted: the peer restarted since we cached its metadata.
    const bool restarted = absl::IsAborted(result);
    // Forgotten only when the peer may be gone: the transport failed (it
    // is unreachable, the link broke, or it did not answer in time), or it
    // restarted. An error it answered (kUnavailable included: "service
    // went away during the handshake") says it is alive and its Hello
    // still holds; forgetting it hid its services from `swiftctl peers`
    // while connects kept working (issue 10, finding 11).
    const bool transport_failed = PeerMayNotHaveHeard(result);
    if (restarted || transport_failed) {
      peers_->Invalidate((*peer)->address, std::string(result.message()));
    }
    if (transport_failed && !IsNotReached(result)) {
      // The peer may have accepted it (its answer was lost with the link):
      // remembered, and closed by our id once the peer answers again. A
      // call that never left (a refused dial) left nothing to close.
      RemoteClose abandoned;
      abandoned.peer = (*peer)->address;
      abandoned.peer_incarnation = (*peer)->hello.incarnation();
      abandoned.abandoned_client_id = id;
      closer_.KeepUndelivered(std::move(abandoned));
    }
    if (!restarted && !IsNotReached(result)) {
      break;
    }
  }
  VLOG(1) << "Connect to " << host << "/" << call.service()
          << " failed: " << result;
  quotas_->Release(caller.uid, BrokerQuotas::Resource::kConnections);
  CountFailure(caller.uid, result);
  return result;
}

void Broker::EndLocked(
    absl::flat_hash_map<uint64_t, Connection>::iterator it) {
  const uid_t uid = it->second.view.uid;
  quotas_->Release(uid, BrokerQuotas::Resource::kConnections);
  ++counters_.closed;
  ++tenant_counters_[uid].closed;
  if (!it->second.ended_because.empty()) {
    connections_.erase(it);  // The peer has forgotten it already.
    return;
  }
  RemoteClose close;
  close.peer = it->second.view.peer;
  close.peer_incarnation = it->second.peer_incarnation;
  close.connection_id = it->second.view.id;
  close.server_connection_id = it->second.view.server_connection_id;
  closer_.Enqueue(std::move(close));
  connections_.erase(it);
}

absl::Status Broker::Close(const FastPathCaller& caller, uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return absl::NotFoundError(absl::StrCat("no connection ", id));
  }
  // Ids are sequential: a tenant could otherwise close anyone's (one
  // closed root's; issue 10, finding 5).
  if (caller.uid != 0 && caller.uid != it->second.view.uid) {
    return absl::PermissionDeniedError(
        absl::StrCat("connection ", id, " is not uid ", caller.uid,
                     "'s: only its owner or root may close it"));
  }
  EndLocked(it);
  return absl::OkStatus();
}

void Broker::CloseAllOf(uint64_t channel_id) {
  absl::MutexLock lock(&mu_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    auto next = std::next(it);
    if (it->second.channel_id == channel_id) {
      // Ended without the client's Close(): a live process of the tenant
      // may still pool pairs that were made on that channel.
      changes_.Bump(it->second.view.uid);
      EndLocked(it);
    }
    it = next;
  }
}

std::vector<Broker::ConnectionView> Broker::Connections() const {
  std::vector<ConnectionView> views;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, connection] : connections_) {
    views.push_back(connection.view);
    views.back().remote_ended = !connection.ended_because.empty();
    views.back().remote_problem = views.back().remote_ended
                                      ? connection.ended_because
                                      : connection.suspect_because;
  }
  std::sort(views.begin(), views.end(),
            [](const ConnectionView& a, const ConnectionView& b) {
              return a.id < b.id;
            });
  return views;
}

Broker::Counters Broker::GetCounters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

Broker::Counters Broker::GetCountersOf(uid_t uid) const {
  absl::MutexLock lock(&mu_);
  auto it = tenant_counters_.find(uid);
  return it == tenant_counters_.end() ? Counters() : it->second;
}

absl::StatusOr<v1::CheckConnectionsResult> Broker::CheckConnections(
    const FastPathCaller& caller, const v1::CheckConnectionsCall& call) const {
  if (call.connection_ids_size() > kMaxCheckedConnections) {
    return absl::InvalidArgumentError(absl::StrCat(
        "check_connections names ", call.connection_ids_size(),
        " connections; at most ", kMaxCheckedConnections, " per call"));
  }
  v1::CheckConnectionsResult result;
  absl::MutexLock lock(&mu_);
  for (const uint64_t id : call.connection_ids()) {
    v1::ConnectionState* state = result.add_states();
    state->set_connection_id(id);
    auto it = connections_.find(id);
    // Another tenant's connection is not described: the same answer as
    // for an unknown id.
    if (it == connections_.end() ||
        (caller.uid != 0 && caller.uid != it->second.view.uid)) {
      state->set_reason(absl::StrCat(
          "no connection ", id, " of uid ", caller.uid,
          " here (closed already, or made before this swiftd restarted)"));
      continue;
    }
    const Connection& connection = it->second;
    if (!connection.ended_because.empty()) {
      state->set_reason(connection.ended_because);
    } else if (!connection.suspect_because.empty()) {
      state->set_reason(connection.suspect_because);
    } else {
      state->set_live(true);
    }
  }
  return result;
}

absl::StatusOr<ChangeBoard::Shared> Broker::WatchChanges(
    const FastPathCaller& caller) {
  return changes_.Share(caller.uid);
}

std::vector<std::string> Broker::WatchedPeers() const {
  absl::flat_hash_set<std::string> peers;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, connection] : connections_) {
      if (connection.ended_because.empty()) {
        peers.insert(connection.view.peer);
      }
    }
  }
  std::vector<std::string> sorted(peers.begin(), peers.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

void Broker::OnPeerWatched(
    const std::string& address,
    const absl::StatusOr<peer::v1::WatchResponse>& watched) {
  absl::flat_hash_set<uint64_t> closed;
  if (watched.ok()) {
    closed.insert(watched->closed().begin(), watched->closed().end());
  }
  int ended = 0;
  absl::MutexLock lock(&mu_);
  for (auto& [id, connection] : connections_) {
    if (connection.view.peer != address || !connection.ended_because.empty()) {
      continue;
    }
    if (!watched.ok()) {
      if (connection.suspect_because.empty()) {
        connection.suspect_because =
            absl::StrCat("swiftd on ", address, " does not answer (",
                         watched.status().message(), ")");
        changes_.Bump(connection.view.uid);
      }
      continue;
    }
    connection.suspect_because.clear();
    if (connection.peer_incarnation != watched->incarnation()) {
      connection.ended_because = absl::StrCat(
          "swiftd on ", address, " restarted (incarnation ",
          connection.peer_incarnation, ", now ", watched->incarnation(),
          "): its side of the connection is gone");
    } else if (closed.contains(id)) {
      connection.ended_because = absl::StrCat(
          "service '", connection.view.service, "' on ", address,
          " closed the connection (its application closed it or exited)");
    } else if (watched->closes_lost()) {
      connection.ended_because = absl::StrCat(
          "swiftd on ", address,
          " dropped closes it owed this host: every connection made there "
          "counts as ended");
    } else {
      continue;
    }
    changes_.Bump(connection.view.uid);
    ++ended;
  }
  VLOG_IF(1, ended > 0) << ended << " connection(s) with " << address
                        << " ended on the remote side";
}

void Broker::OnPeerGone(const std::string& address, uint64_t incarnation,
                        const std::string& reason) {
  int ended = 0;
  absl::MutexLock lock(&mu_);
  for (auto& [id, connection] : connections_) {
    if (connection.view.peer != address ||
        connection.peer_incarnation != incarnation ||
        !connection.ended_because.empty()) {
      continue;
    }
    connection.ended_because =
        absl::StrCat("the directory says swiftd on ", address, " restarted (",
                     reason, "): its side of the connection is gone");
    changes_.Bump(connection.view.uid);
    ++ended;
  }
  LOG_IF(INFO, ended > 0) << ended << " connection(s) with " << address
                          << " ended: " << reason;
}

}  // namespace swift
