// Broker implementation; see broker.h.
#include "daemon/broker/broker.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "common/wire_micros.h"
#include "glog/logging.h"

namespace swift {
namespace {

absl::Status FromPeer(const grpc::Status& status, const std::string& peer) {
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  if (code == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat(
        "swiftd on ", peer, " is unreachable: ", status.error_message()));
  }
  if (code == absl::StatusCode::kDeadlineExceeded) {
    return absl::DeadlineExceededError(
        absl::StrCat("swiftd on ", peer, " did not answer in time"));
  }
  return absl::Status(code, status.error_message());
}

// Link errors in the words gRPC's would be.
absl::Status FromLink(const absl::Status& status, const std::string& peer) {
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    return absl::Status(status.code(), absl::StrCat("swiftd on ", peer, ": ",
                                                    status.message()));
  }
  return status;
}

}  // namespace

absl::StatusOr<peer::v1::ConnectResponse> Broker::CallConnect(
    const PeerDirectory::Peer& peer, const peer::v1::ConnectRequest& request,
    absl::Time deadline) {
  if (peer.link != nullptr) {
    peer::v1::LinkRequest link_request;
    *link_request.mutable_connect() = request;
    absl::StatusOr<peer::v1::LinkResponse> response =
        peer.link->Call(std::move(link_request), deadline);
    if (!response.ok()) {
      return FromLink(response.status(), peer.address);
    }
    return response->connect();
  }
  peer::v1::ConnectResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  grpc::Status status = peer.stub->Connect(&context, request, &response);
  if (!status.ok()) {
    return FromPeer(status, peer.address);
  }
  return response;
}

absl::Status Broker::CallClose(const PeerDirectory::Peer& peer,
                               const peer::v1::CloseRequest& request,
                               absl::Time deadline) {
  if (peer.link != nullptr) {
    peer::v1::LinkRequest link_request;
    *link_request.mutable_close() = request;
    return FromLink(peer.link->Call(std::move(link_request), deadline).status(),
                    peer.address);
  }
  peer::v1::CloseResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  return FromPeer(peer.stub->Close(&context, request, &response), peer.address);
}

Broker::Broker(PeerDirectory* peers, AdmissionController* admission,
               absl::Duration default_timeout)
    : peers_(peers), admission_(admission), default_timeout_(default_timeout) {
  closer_ = std::thread([this] { CloserLoop(); });
}

Broker::~Broker() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  closer_.join();
}

void Broker::CloserLoop() {
  while (true) {
    std::vector<Connection> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !to_close_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (to_close_.empty()) {
        return;  // Stopping, and nothing left to tell.
      }
      while (!to_close_.empty() && batch.size() < PeerLinkClient::kMaxPipelined) {
        batch.push_back(std::move(to_close_.front()));
        to_close_.pop_front();
      }
    }
    CloseRemote(std::move(batch));
  }
}

void Broker::CountFailure(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  ++counters_.failed[absl::StatusCodeToString(status.code())];
}

absl::StatusOr<v1::ConnectResult> Broker::Connect(const FastPathCaller& caller,
                                                  const v1::ConnectCall& call) {
  const absl::Time start = absl::Now();
  const absl::Time deadline =
      start + (call.timeout_ms() > 0 ? absl::Milliseconds(call.timeout_ms())
                                     : default_timeout_);
  absl::Status result;
  if (call.service().empty()) {
    result = absl::InvalidArgumentError("connect needs a service name");
  } else if (absl::StatusOr<verbs::QpEndpoint> endpoint =
                 verbs::DecodeEndpoint(call.client_endpoint());
             !endpoint.ok()) {
    result = absl::InvalidArgumentError(
        absl::StrCat("bad client endpoint: ", endpoint.status().message()));
  }
  if (!result.ok()) {
    CountFailure(result);
    return result;
  }

  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
  }
  // A restarted peer is retried once with fresh metadata.
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> peer =
        peers_->Get(call.host(), deadline);
    if (!peer.ok()) {
      result = peer.status();
      break;
    }
    const absl::Time admitting = absl::Now();
    absl::StatusOr<AdmissionController::Ticket> ticket =
        admission_->Admit((*peer)->address, caller.channel_id, deadline);
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
        CallConnect(**peer, request, deadline);
    const absl::Duration peer_call = absl::Now() - admitted;
    if (response.ok()) {
      Connection connection;
      connection.view.id = id;
      connection.view.peer = (*peer)->address;
      connection.view.service = call.service();
      connection.view.server_connection_id = response->server_connection_id();
      connection.view.client_pid = caller.pid;
      connection.view.client_name = caller.client_name;
      connection.view.connected_at = absl::Now();
      connection.view.handshake_time = absl::Now() - start;
      connection.channel_id = caller.channel_id;
      connection.peer_incarnation = response->incarnation();
      absl::MutexLock lock(&mu_);
      connections_[id] = std::move(connection);
      ++counters_.connected;
      v1::ConnectResult connected;
      connected.set_server_endpoint(response->server_endpoint());
      connected.set_connection_id(id);
      connected.set_admission_us(WireMicros(admitted - admitting));
      connected.set_peer_call_us(WireMicros(peer_call));
      connected.set_remote_serve_us(response->serve_us());
      connected.set_remote_app_wait_us(response->app_wait_us());
      connected.set_app_accept_us(response->app_accept_us());
      connected.set_broker_us(WireMicros(absl::Now() - start));
      return connected;
    }
    result = response.status();
    // kAborted: the peer restarted since we cached its metadata.
    const bool restarted = absl::IsAborted(result);
    if (restarted || absl::IsUnavailable(result)) {
      peers_->Invalidate((*peer)->address, result.ToString());
    }
    if (!restarted) {
      break;
    }
  }
  VLOG(1) << "Connect to " << call.host() << "/" << call.service()
          << " failed: " << result;
  CountFailure(result);
  return result;
}

void Broker::CloseRemote(std::vector<Connection> connections) {
  // By peer, in the order the closes came.
  std::vector<std::pair<std::string, std::vector<Connection>>> by_peer;
  for (Connection& connection : connections) {
    auto same = std::find_if(by_peer.begin(), by_peer.end(), [&](auto& group) {
      return group.first == connection.view.peer;
    });
    if (same == by_peer.end()) {
      by_peer.emplace_back(connection.view.peer, std::vector<Connection>());
      same = by_peer.end() - 1;
    }
    same->second.push_back(std::move(connection));
  }
  for (auto& [address, group] : by_peer) {
    const absl::Time deadline = absl::Now() + default_timeout_;
    std::vector<absl::Status> closed(group.size());
    absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> peer =
        peers_->Get(address, deadline);
    if (!peer.ok()) {
      std::fill(closed.begin(), closed.end(), peer.status());
    } else if ((*peer)->link != nullptr) {
      std::vector<peer::v1::LinkRequest> requests(group.size());
      for (size_t i = 0; i < group.size(); ++i) {
        peer::v1::CloseRequest* request = requests[i].mutable_close();
        request->set_api_version(kControlApiVersion);
        request->set_expected_incarnation(group[i].peer_incarnation);
        request->set_server_connection_id(
            group[i].view.server_connection_id);
      }
      closed = (*peer)->link->CallPipelined(std::move(requests), deadline);
      for (absl::Status& status : closed) {
        status = FromLink(status, address);
      }
    } else {
      for (size_t i = 0; i < group.size(); ++i) {
        peer::v1::CloseRequest request;
        request.set_api_version(kControlApiVersion);
        request.set_expected_incarnation(group[i].peer_incarnation);
        request.set_server_connection_id(group[i].view.server_connection_id);
        closed[i] = CallClose(**peer, request, deadline);
      }
    }
    for (size_t i = 0; i < group.size(); ++i) {
      if (!closed[i].ok()) {
        LOG(WARNING) << "Telling " << address << " that connection "
                     << group[i].view.id << " closed: " << closed[i];
      }
    }
  }
}

absl::Status Broker::Close(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return absl::NotFoundError(absl::StrCat("no connection ", id));
  }
  to_close_.push_back(std::move(it->second));
  connections_.erase(it);
  ++counters_.closed;
  return absl::OkStatus();
}

void Broker::CloseAllOf(uint64_t channel_id) {
  absl::MutexLock lock(&mu_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->second.channel_id == channel_id) {
      to_close_.push_back(std::move(it->second));
      connections_.erase(it++);
      ++counters_.closed;
    } else {
      ++it;
    }
  }
}

std::vector<Broker::ConnectionView> Broker::Connections() const {
  std::vector<ConnectionView> views;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, connection] : connections_) {
    views.push_back(connection.view);
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

}  // namespace swift
