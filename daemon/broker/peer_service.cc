// PeerServiceImpl implementation; see peer_service.h.
#include "daemon/broker/peer_service.h"

#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "common/wire_micros.h"
#include "daemon/transport/grpc_status.h"
#include "glog/logging.h"

namespace swift {

PeerServiceImpl::PeerServiceImpl(uint64_t incarnation, std::string address,
                                 std::vector<peer::v1::PeerDevice> devices,
                                 ServiceRegistry* registry)
    : incarnation_(incarnation),
      address_(std::move(address)),
      devices_(std::move(devices)),
      registry_(registry) {}

absl::Status PeerServiceImpl::CheckCaller(uint32_t api_version,
                                          uint64_t expected_incarnation) const {
  if (api_version < kMinControlApiVersion || api_version > kControlApiVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("peer speaks API v", api_version, ", this swiftd v",
                     kMinControlApiVersion, " to v", kControlApiVersion));
  }
  if (expected_incarnation != 0 && expected_incarnation != incarnation_) {
    // kAborted: the caller's cached view is stale; it may refresh and retry.
    return absl::AbortedError(absl::StrCat(
        "swiftd on ", address_, " restarted (incarnation ", incarnation_,
        ", caller expected ", expected_incarnation, ")"));
  }
  return absl::OkStatus();
}

grpc::Status PeerServiceImpl::Hello(grpc::ServerContext* context,
                                    const peer::v1::HelloRequest* request,
                                    peer::v1::HelloResponse* response) {
  if (absl::Status ok = CheckCaller(request->api_version(), 0); !ok.ok()) {
    return ToGrpcStatus(ok);
  }
  VLOG(1) << "Hello from peer " << request->address() << " incarnation "
          << request->incarnation();
  response->set_api_version(kControlApiVersion);
  response->set_incarnation(incarnation_);
  response->set_address(address_);
  for (const auto& device : devices_) {
    *response->add_devices() = device;
  }
  for (const std::string& name : registry_->ServiceNames()) {
    response->add_services(name);
  }
  response->set_link_port(link_port_);
  return grpc::Status::OK;
}

absl::StatusOr<peer::v1::ConnectResponse> PeerServiceImpl::HandleConnect(
    const peer::v1::ConnectRequest& request, absl::Time deadline) {
  const absl::Time start = absl::Now();
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
  absl::StatusOr<ServiceRegistry::Accepted> accepted =
      registry_->Accept(request.service(), *client, deadline);
  if (!accepted.ok()) {
    return accepted.status();
  }
  peer::v1::ConnectResponse response;
  response.set_server_endpoint(
      verbs::EncodeEndpoint(accepted->server_endpoint));
  response.set_server_connection_id(accepted->connection_id);
  response.set_incarnation(incarnation_);
  response.set_app_wait_us(WireMicros(accepted->app_wait));
  response.set_app_accept_us(WireMicros(accepted->app_accept));
  response.set_serve_us(WireMicros(absl::Now() - start));
  return response;
}

absl::Status PeerServiceImpl::HandleClose(
    const peer::v1::CloseRequest& request) {
  if (absl::Status ok =
          CheckCaller(request.api_version(), request.expected_incarnation());
      !ok.ok()) {
    return ok;
  }
  return registry_->Close(request.server_connection_id());
}

grpc::Status PeerServiceImpl::Connect(grpc::ServerContext* context,
                                      const peer::v1::ConnectRequest* request,
                                      peer::v1::ConnectResponse* response) {
  absl::StatusOr<peer::v1::ConnectResponse> connected =
      HandleConnect(*request, absl::FromChrono(context->deadline()));
  if (connected.ok()) {
    *response = *std::move(connected);
  }
  return ToGrpcStatus(connected.status());
}

grpc::Status PeerServiceImpl::Close(grpc::ServerContext* context,
                                    const peer::v1::CloseRequest* request,
                                    peer::v1::CloseResponse* response) {
  return ToGrpcStatus(HandleClose(*request));
}

}  // namespace swift
