// TestPeer implementation; see test_peer.h.
#include "daemon/broker/test_peer.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace swift {

TestPeer::TestPeer(uint64_t incarnation, bool link, PeerGate* gate)
    : with_link_(link), gate_(gate) {
  if (gate_ == nullptr) {
    own_gate_ = InsecureLoopbackGate();
    gate_ = own_gate_.get();
  }
  registry_ = std::make_unique<ServiceRegistry>(absl::Seconds(2));
  Serve(incarnation);
}

std::unique_ptr<PeerGate> TestPeer::InsecureLoopbackGate() {
  PeerGateOptions options;
  options.insecure = true;
  options.allow = {"127.0.0.1"};
  absl::StatusOr<std::unique_ptr<PeerGate>> created = PeerGate::Create(options);
  CHECK(created.ok()) << created.status();
  return *std::move(created);
}

void TestPeer::Serve(uint64_t incarnation) {
  handler_ = std::make_unique<PeerHandler>(
      incarnation, address_, std::vector<peer::v1::PeerDevice>(),
      registry_.get());
  service_ = std::make_unique<PeerServiceImpl>(handler_.get(), gate_);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port_),
                           grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  CHECK(server_ != nullptr && port_ != 0);
  address_ = absl::StrCat("127.0.0.1:", port_);
  if (with_link_) {
    absl::StatusOr<std::unique_ptr<PeerLinkServer>> link =
        PeerLinkServer::Start(HostPort{"127.0.0.1", 0}, handler_.get(), gate_);
    CHECK(link.ok()) << link.status();
    link_ = *std::move(link);
    handler_->set_link_port(link_->port());
  }
}

void TestPeer::Stop() {
  if (link_ != nullptr) {
    link_->Shutdown();
    link_.reset();
  }
  if (server_ != nullptr) {
    server_->Shutdown();
    server_->Wait();
    server_.reset();
  }
}

void TestPeer::Resume() {
  Stop();
  Serve(handler_->incarnation());
}

void TestPeer::Restart(uint64_t incarnation) {
  Stop();
  registry_ = std::make_unique<ServiceRegistry>(absl::Seconds(2));
  Serve(incarnation);
}

}  // namespace swift
