// PeerHandler implementation; see peer_handler.h.
#include "daemon/broker/peer_handler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "common/wire_micros.h"
#include "glog/logging.h"

namespace swift {

PeerHandler::PeerHandler(uint64_t incarnation, std::string address,
                         std::vector<peer::v1::PeerDevice> devices,
                         ServiceRegistry* registry)
    : incarnation_(incarnation),
      address_(std::move(address)),
      devices_(std::move(devices)),
      registry_(registry) {}

absl::Status PeerHandler::CheckCaller(
    uint32_t api_version, std::optional<uint64_t> expected_incarnation) const {
  if (absl::Status version = CheckApiVersion(api_version, "peer");
      !version.ok()) {
    return version;
  }
  if (!expected_incarnation.has_value()) {
    return absl::OkStatus();
  }
  // 0 skipped the check, so a caller could act on connections made with
  // an earlier incarnation of this swiftd (issue 10, finding 4). Every
  // swiftd's Broker names the incarnation of the Hello it cached.
  if (*expected_incarnation == 0) {
    return absl::InvalidArgumentError(
        "peer request without expected_incarnation: Connect and Close must "
        "name the incarnation of this swiftd the caller expects (from its "
        "Hello)");
  }
  if (*expected_incarnation != incarnation_) {
    // kAborted: the caller's cached view is stale; it may refresh and retry.
    return absl::AbortedError(absl::StrCat(
        "swiftd on ", address_, " restarted (incarnation ", incarnation_,
        ", caller expected ", *expected_incarnation, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<peer::v1::HelloResponse> PeerHandler::Hello(
    const peer::v1::HelloRequest& request) const {
  if (absl::Status ok = CheckCaller(request.api_version(), std::nullopt);
      !ok.ok()) {
    return ok;
  }
  VLOG(1) << "Hello from peer " << request.address() << " incarnation "
          << request.incarnation();
  peer::v1::HelloResponse response;
  response.set_api_version(kControlApiVersion);
  response.set_incarnation(incarnation_);
  response.set_address(address_);
  for (const auto& device : devices_) {
    *response.add_devices() = device;
  }
  for (const std::string& name : registry_->ServiceNames()) {
    response.add_services(name);
  }
  response.set_link_port(link_port_.load());
  return response;
}

absl::StatusOr<verbs::QpEndpoint> PeerHandler::PrepareConnect(
    const peer::v1::ConnectRequest& request, const std::string& caller) {
  if (absl::Status ok =
          CheckCaller(request.api_version(), request.expected_incarnation());
      !ok.ok()) {
    return ok;
  }
  absl::StatusOr<verbs::QpEndpoint> client =
      verbs::DecodeEndpoint(request.client_endpoint());
  if (!client.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad client endpoint: ", client.status().message()));
  }
  // A caller with a new incarnation restarted: what it made before is
  // nobody's now.
  registry_->CloseOlderIncarnations(caller, request.from_incarnation());
  return client;
}

peer::v1::ConnectResponse PeerHandler::ResponseFor(
    const ServiceRegistry::Accepted& accepted, absl::Time start) const {
  peer::v1::ConnectResponse response;
  response.set_server_endpoint(verbs::EncodeEndpoint(accepted.server_endpoint));
  response.set_server_connection_id(accepted.connection_id);
  response.set_incarnation(incarnation_);
  response.set_app_wait_us(WireMicros(accepted.app_wait));
  response.set_app_accept_us(WireMicros(accepted.app_accept));
  response.set_serve_us(WireMicros(absl::Now() - start));
  return response;
}

absl::StatusOr<peer::v1::ConnectResponse> PeerHandler::Connect(
    const peer::v1::ConnectRequest& request, absl::Time deadline,
    const std::string& caller) {
  const absl::Time start = absl::Now();
  absl::StatusOr<verbs::QpEndpoint> client = PrepareConnect(request, caller);
  if (!client.ok()) {
    return client.status();
  }
  absl::StatusOr<ServiceRegistry::Accepted> accepted = registry_->Accept(
      request.service(), *client, deadline, caller, request.from_incarnation(),
      request.client_connection_id());
  if (!accepted.ok()) {
    return accepted.status();
  }
  return ResponseFor(*accepted, start);
}

absl::StatusOr<ServiceRegistry::StartedAccept> PeerHandler::StartConnect(
    const peer::v1::ConnectRequest& request, absl::Time deadline,
    const std::string& caller, ConnectDone done) {
  const absl::Time start = absl::Now();
  absl::StatusOr<verbs::QpEndpoint> client = PrepareConnect(request, caller);
  if (!client.ok()) {
    return client.status();
  }
  return registry_->StartAccept(
      request.service(), *client, deadline, caller, request.from_incarnation(),
      request.client_connection_id(),
      [this, start, done = std::move(done)](
          absl::StatusOr<ServiceRegistry::Accepted> accepted) {
        if (!accepted.ok()) {
          done(accepted.status());
        } else {
          done(ResponseFor(*accepted, start));
        }
      });
}

absl::Status PeerHandler::Close(const peer::v1::CloseRequest& request,
                                const std::string& caller) {
  if (absl::Status ok =
          CheckCaller(request.api_version(), request.expected_incarnation());
      !ok.ok()) {
    return ok;
  }
  if (request.server_connection_id() == 0 &&
      request.client_connection_id() != 0) {
    return registry_->CloseAbandoned(caller, request.client_connection_id());
  }
  return registry_->Close(request.server_connection_id(), caller);
}

absl::StatusOr<peer::v1::WatchResponse> PeerHandler::Watch(
    const peer::v1::WatchRequest& request, const std::string& caller) {
  if (absl::Status ok = CheckCaller(request.api_version(), std::nullopt);
      !ok.ok()) {
    return ok;
  }
  if (request.from_incarnation() == 0) {
    return absl::InvalidArgumentError(
        "peer Watch without from_incarnation: the caller's closes are kept "
        "per incarnation");
  }
  if (request.acked_closed_size() > kMaxWatchAcks) {
    return absl::InvalidArgumentError(
        absl::StrCat("peer Watch acknowledges ", request.acked_closed_size(),
                     " closes; at most ", kMaxWatchAcks, " are sent"));
  }
  registry_->CloseOlderIncarnations(caller, request.from_incarnation());
  ClosedNotices::Batch batch = registry_->closed_notices().Collect(
      caller, request.from_incarnation(), request.acked_closed(),
      request.acked_closes_lost(), absl::Now());
  peer::v1::WatchResponse response;
  response.set_incarnation(incarnation_);
  response.mutable_closed()->Assign(batch.closed.begin(), batch.closed.end());
  response.set_closes_lost(batch.lost);
  return response;
}

}  // namespace swift
