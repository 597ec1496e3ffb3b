// Host tests of the Control API's gRPC server on a Unix socket: its bounds
// (issue 10: a local user could open thousands of gRPC streams), what
// ListPeers shows (host-wide counters, per peer and in total) and what
// ListIrqs shows (each device's completion-vector IRQs, issue 13).
#include "daemon/api/control_service.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/testing/command_testing.h"
#include "common/testing/eventually.h"
#include "common/version.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

class ControlServiceTest : public ::testing::Test {
 protected:
  void Serve(const ControlApiLimits& limits,
             const PeerDirectory* peers = nullptr,
             const PeerGate* gate = nullptr,
             const IrqAffinity* irqs = nullptr) {
    DeviceCache::Options device_options;
    device_options.watch = false;
    absl::StatusOr<std::unique_ptr<DeviceCache>> devices =
        DeviceCache::Start(device_options);
    ASSERT_TRUE(devices.ok()) << devices.status();
    devices_ = *std::move(devices);
    ControlServiceImpl::Sources sources;
    sources.devices = devices_.get();
    sources.clients = &clients_;
    sources.peers = peers;
    sources.gate = gate;
    sources.max_attach_streams = limits.max_attach_streams;
    sources.irqs = irqs;
    service_ = std::make_unique<ControlServiceImpl>(std::move(sources));
    address_ = "unix:" + dir_.path() + "/swiftd.sock";
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address_, grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    ConfigureControlServer(limits, &builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    }
  }

  // A new connection (its own channel, so its own HTTP/2 connection).
  std::unique_ptr<v1::Control::Stub> Connect() {
    grpc::ChannelArguments arguments;
    arguments.SetInt("grpc.use_local_subchannel_pool", 1);
    return v1::Control::NewStub(grpc::CreateCustomChannel(
        address_, grpc::InsecureChannelCredentials(), arguments));
  }
  static v1::RequestHeader Header() {
    v1::RequestHeader header;
    header.set_api_version(kControlApiVersion);
    return header;
  }
  static grpc::Status GetStatus(v1::Control::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStatusRequest request;
    *request.mutable_header() = Header();
    v1::GetStatusResponse response;
    return stub.GetStatus(&context, request, &response);
  }

  // One Attach stream: open once its welcome arrived.
  struct Attached {
    std::unique_ptr<grpc::ClientContext> context =
        std::make_unique<grpc::ClientContext>();
    std::unique_ptr<grpc::ClientReader<v1::AttachEvent>> reader;
    bool welcomed = false;
  };
  static Attached Attach(v1::Control::Stub& stub,
                         absl::Duration wait = absl::Seconds(10)) {
    Attached attached;
    attached.context->set_deadline(absl::ToChronoTime(absl::Now() + wait));
    v1::AttachRequest request;
    *request.mutable_header() = Header();
    attached.reader = stub.Attach(attached.context.get(), request);
    v1::AttachEvent welcome;
    attached.welcomed = attached.reader->Read(&welcome);
    return attached;
  }

  swift::testing::TempDir dir_;
  std::string address_;
  std::unique_ptr<DeviceCache> devices_;
  ClientRegistry clients_;
  std::unique_ptr<ControlServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
};

// Issue 10: gRPC Control API streams were not bounded. Past the cap an
// Attach is refused with RESOURCE_EXHAUSTED naming the flag; the daemon
// still answers, and a place freed is taken again.
TEST_F(ControlServiceTest, AttachStreamsBeyondTheCapAreRefused) {
  ControlApiLimits limits;
  limits.max_attach_streams = 4;
  Serve(limits);
  std::vector<std::unique_ptr<v1::Control::Stub>> stubs;
  std::vector<Attached> open;
  for (int i = 0; i < 4; ++i) {
    stubs.push_back(Connect());
    open.push_back(Attach(*stubs.back()));
    ASSERT_TRUE(open.back().welcomed) << i;
  }
  EXPECT_EQ(clients_.Count(), 4);
  for (int i = 0; i < 3; ++i) {
    stubs.push_back(Connect());
    Attached refused = Attach(*stubs.back());
    EXPECT_FALSE(refused.welcomed);
    const grpc::Status status = refused.reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << status.error_message();
    EXPECT_TRUE(
        absl::StrContains(status.error_message(), "--max_attach_streams"))
        << status.error_message();
  }
  EXPECT_EQ(clients_.Count(), 4);
  EXPECT_TRUE(GetStatus(*Connect()).ok());

  open.front().context->TryCancel();
  (void)open.front().reader->Finish();
  ASSERT_TRUE(
      swift::testing::Eventually([&] { return clients_.Count() == 3; }));
  Attached again = Attach(*stubs.back());
  EXPECT_TRUE(again.welcomed);
  for (Attached& attached : open) {
    attached.context->TryCancel();
  }
  again.context->TryCancel();
}

// One connection's concurrent calls are bounded too (HTTP/2 SETTINGS):
// the extra stream waits in the client and never reaches swiftd, and
// other connections are served meanwhile.
TEST_F(ControlServiceTest, StreamsPerConnectionAreBounded) {
  ControlApiLimits limits;
  limits.max_streams_per_connection = 2;
  Serve(limits);
  std::unique_ptr<v1::Control::Stub> stub = Connect();
  Attached first = Attach(*stub);
  Attached second = Attach(*stub);
  ASSERT_TRUE(first.welcomed);
  ASSERT_TRUE(second.welcomed);
  Attached queued = Attach(*stub, absl::Milliseconds(500));
  EXPECT_FALSE(queued.welcomed);
  EXPECT_EQ(queued.reader->Finish().error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(clients_.Count(), 2);
  EXPECT_TRUE(GetStatus(*Connect()).ok());
  first.context->TryCancel();
  second.context->TryCancel();
}

// `swiftctl peers`: the peer gate's counts per peer (by its IP) and in
// total, and the calls this swiftd made to each peer.
TEST_F(ControlServiceTest, ListPeersShowsCountersPerPeerAndInTotal) {
  PeerGateOptions gate_options;
  gate_options.insecure = true;
  gate_options.allow = {"127.0.0.1"};
  absl::StatusOr<std::unique_ptr<PeerGate>> gate =
      PeerGate::Create(gate_options);
  ASSERT_TRUE(gate.ok()) << gate.status();
  PeerDirectory peers(1, "127.0.0.1:2", {{"b", "127.0.0.1:1"}});
  // An entry for b: its Hello fails (nothing listens on port 1).
  EXPECT_FALSE(peers.Get("b", absl::Now() + absl::Seconds(5)).ok());
  peers.CountCall("127.0.0.1:1", absl::OkStatus());
  peers.CountCall("127.0.0.1:1", absl::UnavailableError("down"));
  const peer::v1::HelloRequest hello;
  EXPECT_TRUE(
      (*gate)
          ->Admit("m", hello, nullptr, IpAddress::FromHostPort("127.0.0.1:5"))
          .ok());
  EXPECT_FALSE(
      (*gate)
          ->Admit("m", hello, nullptr, IpAddress::FromHostPort("10.9.9.9:5"))
          .ok());
  EXPECT_FALSE((*gate)->CheckDial("10.9.9.9:7", false).ok());
  Serve(ControlApiLimits(), &peers, gate->get());

  grpc::ClientContext context;
  v1::ListPeersRequest request;
  *request.mutable_header() = Header();
  v1::ListPeersResponse response;
  ASSERT_TRUE(Connect()->ListPeers(&context, request, &response).ok());
  ASSERT_EQ(response.peers_size(), 1);
  const v1::PeerCounters& b = response.peers(0).counters();
  EXPECT_EQ(b.calls(), 2u);
  EXPECT_EQ(b.call_errors(), 1u);
  EXPECT_EQ(b.admitted(), 1u);
  EXPECT_EQ(b.refused_address(), 0u);
  EXPECT_EQ(response.totals().calls(), 2u);
  EXPECT_EQ(response.totals().admitted(), 1u);
  EXPECT_EQ(response.totals().refused_address(), 1u);
  EXPECT_EQ(response.totals().refused_dial(), 1u);
}

// ListIrqs answers from the IRQ state swiftd keeps, read at each call.
TEST_F(ControlServiceTest, ListIrqsReportsEachDevicesIrqs) {
  swift::testing::TempDir proc;
  std::ofstream(proc.path() + "/interrupts")
      << "           CPU0       CPU1\n"
         "  0:         41          0   IO-APIC   2-edge      timer\n";
  IrqAffinityOptions options;
  options.proc_root = proc.path();
  options.privileged = false;
  std::unique_ptr<IrqAffinity> irqs =
      IrqAffinity::Apply({{"rxe0", "", 1}}, options);
  Serve(ControlApiLimits(), nullptr, nullptr, irqs.get());
  std::unique_ptr<v1::Control::Stub> stub = Connect();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::ListIrqsRequest request;
  *request.mutable_header() = Header();
  v1::ListIrqsResponse response;
  const grpc::Status status = stub->ListIrqs(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.enabled());
  EXPECT_FALSE(response.privileged());
  EXPECT_EQ(response.cpus_size(), 2);
  ASSERT_EQ(response.devices_size(), 1);
  EXPECT_EQ(response.devices(0).device(), "rxe0");
  EXPECT_EQ(response.devices(0).state(), "software");
  EXPECT_TRUE(
      absl::StartsWith(response.devices(0).detail(), "no IRQs (software"))
      << response.devices(0).detail();
}

TEST_F(ControlServiceTest, ListIrqsWithoutIrqStateIsUnavailable) {
  Serve(ControlApiLimits());
  std::unique_ptr<v1::Control::Stub> stub = Connect();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::ListIrqsRequest request;
  *request.mutable_header() = Header();
  v1::ListIrqsResponse response;
  EXPECT_EQ(stub->ListIrqs(&context, request, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace swift
