// Host tests for issue 10 finding 4: the Peer API and the link had no
// authentication (any host listed services, connected with an endpoint it
// chose and closed other peers' connections). Now a peer without the
// cluster's secret, with a wrong or replayed credential, or from an address
// outside the allow-list is refused and counted, on gRPC and on the link,
// for Hello, Connect and Close; a client cannot make swiftd dial a host
// outside the list. Loopback only.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <poll.h>

#include <memory>
#include <string>
#include <vector>

#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "daemon/broker/fake_application.h"
#include "daemon/broker/peer_authenticator.h"
#include "daemon/broker/peer_call_signer.h"
#include "daemon/broker/peer_directory.h"
#include "daemon/broker/peer_gate.h"
#include "daemon/broker/peer_link_client.h"
#include "daemon/broker/test_peer.h"
#include "gtest/gtest.h"
#include "proto/peer.grpc.pb.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

const std::string kSecret(32, 'c');
const std::string kWrongSecret(32, 'w');
constexpr uint64_t kIncarnation = 9;

std::unique_ptr<PeerGate> Gate(const std::string& secret,
                               std::vector<std::string> allow) {
  PeerGateOptions options;
  options.secret = secret;
  options.allow = std::move(allow);
  absl::StatusOr<std::unique_ptr<PeerGate>> gate = PeerGate::Create(options);
  EXPECT_TRUE(gate.ok()) << gate.status();
  return gate.ok() ? *std::move(gate) : nullptr;
}

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

peer::v1::HelloRequest Hello() {
  peer::v1::HelloRequest request;
  request.set_api_version(kControlApiVersion);
  return request;
}
peer::v1::ConnectRequest Connect(const std::string& service) {
  peer::v1::ConnectRequest request;
  request.set_api_version(kControlApiVersion);
  request.set_expected_incarnation(kIncarnation);
  request.set_service(service);
  request.set_client_endpoint(verbs::EncodeEndpoint(verbs::QpEndpoint()));
  return request;
}
peer::v1::CloseRequest Close(uint64_t id) {
  peer::v1::CloseRequest request;
  request.set_api_version(kControlApiVersion);
  request.set_expected_incarnation(kIncarnation);
  request.set_server_connection_id(id);
  return request;
}

class PeerAuthTest : public ::testing::Test {
 protected:
  // The serving swiftd: holds the secret, allows loopback.
  std::unique_ptr<PeerGate> server_gate_ = Gate(kSecret, {"127.0.0.1"});
  TestPeer remote_{kIncarnation, /*link=*/true, server_gate_.get()};

  // A stub on a channel that signs with `signer` (null: signs nothing).
  std::unique_ptr<peer::v1::Peer::Stub> Stub(const PeerAuthenticator* signer) {
    std::vector<
        std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        interceptors;
    if (signer != nullptr) {
      interceptors.push_back(std::make_unique<PeerCallSigner>(signer));
    }
    return peer::v1::Peer::NewStub(
        grpc::experimental::CreateCustomChannelWithInterceptors(
            remote_.address(), grpc::InsecureChannelCredentials(),
            grpc::ChannelArguments(), std::move(interceptors)));
  }

  // Hello, Connect and Close on `stub`: their status codes.
  static std::vector<grpc::StatusCode> CallAll(peer::v1::Peer::Stub& stub) {
    std::vector<grpc::StatusCode> codes;
    {
      grpc::ClientContext context;
      peer::v1::HelloResponse response;
      codes.push_back(stub.Hello(&context, Hello(), &response).error_code());
    }
    {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(Soon()));
      peer::v1::ConnectResponse response;
      codes.push_back(
          stub.Connect(&context, Connect("echo"), &response).error_code());
    }
    {
      grpc::ClientContext context;
      peer::v1::CloseResponse response;
      codes.push_back(stub.Close(&context, Close(1), &response).error_code());
    }
    return codes;
  }

  HostPort LinkAddress() { return HostPort{"127.0.0.1", remote_.link()->port()}; }

  // One raw frame on a new link connection; the answer's status, and
  // (unless `ended` is null) whether the server then ended the connection.
  absl::Status RawLinkCall(const peer::v1::LinkRequest& request,
                           bool* ended) {
    absl::StatusOr<UniqueFd> fd = ConnectTcp(LinkAddress());
    EXPECT_TRUE(fd.ok()) << fd.status();
    if (!fd.ok()) return fd.status();
    EXPECT_TRUE(SetIoTimeout(fd->get(), absl::Seconds(5)).ok());
    EXPECT_TRUE(SendFrame(fd->get(), request.SerializeAsString()).ok());
    absl::StatusOr<std::string> frame = RecvFrame(fd->get());
    if (!frame.ok()) return frame.status();
    peer::v1::LinkResponse response;
    EXPECT_TRUE(response.ParseFromString(*frame));
    if (ended != nullptr) {
      *ended = absl::IsUnavailable(RecvFrame(fd->get()).status());
    }
    return DecodeStatus(response);
  }
};

// Before the fix every call here was served (OK, or the handler's own
// NOT_FOUND): no credential was asked for.
TEST_F(PeerAuthTest, GrpcRefusesCallsWithoutACredential) {
  FakeApplication app(&remote_.registry(), {});
  std::unique_ptr<peer::v1::Peer::Stub> stub = Stub(nullptr);
  EXPECT_EQ(CallAll(*stub),
            std::vector<grpc::StatusCode>(3, grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_EQ(app.accepts(), 0);  // Connect never reached the application.
  EXPECT_EQ(server_gate_->counters().refused_credential, 3u);
  EXPECT_EQ(server_gate_->counters().admitted, 0u);
}

TEST_F(PeerAuthTest, GrpcRefusesAWrongSecret) {
  FakeApplication app(&remote_.registry(), {});
  absl::StatusOr<std::unique_ptr<PeerAuthenticator>> stranger =
      PeerAuthenticator::Create(kWrongSecret);
  ASSERT_TRUE(stranger.ok());
  std::unique_ptr<peer::v1::Peer::Stub> stub = Stub(stranger->get());
  EXPECT_EQ(CallAll(*stub),
            std::vector<grpc::StatusCode>(3, grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_EQ(app.accepts(), 0);
}

TEST_F(PeerAuthTest, GrpcServesTheRightSecret) {
  FakeApplication app(&remote_.registry(), {});
  std::unique_ptr<PeerGate> client_gate = Gate(kSecret, {"127.0.0.1"});
  std::unique_ptr<peer::v1::Peer::Stub> stub =
      Stub(client_gate->authenticator());
  {
    grpc::ClientContext context;
    peer::v1::HelloResponse response;
    grpc::Status status = stub->Hello(&context, Hello(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.incarnation(), kIncarnation);
  }
  peer::v1::ConnectResponse connected;
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(Soon()));
    grpc::Status status = stub->Connect(&context, Connect("echo"), &connected);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  {
    grpc::ClientContext context;
    peer::v1::CloseResponse response;
    grpc::Status status = stub->Close(
        &context, Close(connected.server_connection_id()), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(server_gate_->counters().admitted, 3u);
  EXPECT_TRUE(app.WaitForCloses(1));
}

TEST_F(PeerAuthTest, GrpcRefusesAReplayedCall) {
  std::unique_ptr<PeerGate> client_gate = Gate(kSecret, {"127.0.0.1"});
  // A captured call: the same request with the same credential, twice.
  const std::string credential =
      client_gate->authenticator()->Sign(kPeerHelloMethod, Hello())
          .SerializeAsString();
  std::unique_ptr<peer::v1::Peer::Stub> stub = Stub(nullptr);
  std::vector<grpc::Status> statuses;
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    context.AddMetadata(kPeerCredentialMetadata, credential);
    peer::v1::HelloResponse response;
    statuses.push_back(stub->Hello(&context, Hello(), &response));
  }
  EXPECT_TRUE(statuses[0].ok()) << statuses[0].error_message();
  EXPECT_EQ(statuses[1].error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(statuses[1].error_message().find("replayed"), std::string::npos)
      << statuses[1].error_message();
  EXPECT_EQ(server_gate_->counters().refused_replay, 1u);
}

TEST_F(PeerAuthTest, LinkRefusesRequestsWithoutACredential) {
  FakeApplication app(&remote_.registry(), {});
  for (const peer::v1::LinkRequest& request : [] {
         std::vector<peer::v1::LinkRequest> requests(2);
         *requests[0].mutable_connect() = Connect("echo");
         *requests[1].mutable_close() = Close(1);
         return requests;
       }()) {
    bool ended = false;
    absl::Status status = RawLinkCall(request, &ended);
    EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
    EXPECT_TRUE(ended);  // No second try on that connection.
  }
  EXPECT_EQ(app.accepts(), 0);
  EXPECT_EQ(server_gate_->counters().refused_credential, 2u);
}

TEST_F(PeerAuthTest, LinkRefusesAWrongSecret) {
  absl::StatusOr<std::unique_ptr<PeerAuthenticator>> stranger =
      PeerAuthenticator::Create(kWrongSecret);
  ASSERT_TRUE(stranger.ok());
  PeerLinkClient client(LinkAddress(), {}, stranger->get());
  peer::v1::LinkRequest request;
  *request.mutable_connect() = Connect("echo");
  absl::Status status = client.Call(request, Soon()).status();
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
}

TEST_F(PeerAuthTest, LinkServesTheRightSecret) {
  FakeApplication app(&remote_.registry(), {});
  std::unique_ptr<PeerGate> client_gate = Gate(kSecret, {"127.0.0.1"});
  PeerLinkClient client(LinkAddress(), {}, client_gate->authenticator());
  peer::v1::LinkRequest connect;
  *connect.mutable_connect() = Connect("echo");
  absl::StatusOr<peer::v1::LinkResponse> connected =
      client.Call(connect, Soon());
  ASSERT_TRUE(connected.ok()) << connected.status();
  std::vector<peer::v1::LinkRequest> closes(2);
  *closes[0].mutable_close() =
      Close(connected->connect().server_connection_id());
  *closes[1].mutable_close() = Close(12345);
  std::vector<absl::Status> closed =
      client.CallPipelined(std::move(closes), Soon());
  EXPECT_TRUE(closed[0].ok()) << closed[0];
  EXPECT_TRUE(absl::IsNotFound(closed[1])) << closed[1];
  EXPECT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(server_gate_->counters().admitted, 3u);
}

TEST_F(PeerAuthTest, LinkRefusesAReplayedFrame) {
  std::unique_ptr<PeerGate> client_gate = Gate(kSecret, {"127.0.0.1"});
  peer::v1::LinkRequest request;
  *request.mutable_close() = Close(777);
  *request.mutable_credential() =
      client_gate->authenticator()->Sign(kPeerCloseMethod, request.close());
  bool ended = false;
  // Admitted: the handler's own answer (no such connection).
  EXPECT_TRUE(absl::IsNotFound(RawLinkCall(request, nullptr)));
  // The same frame again, on another connection.
  absl::Status replayed = RawLinkCall(request, &ended);
  EXPECT_TRUE(absl::IsUnauthenticated(replayed)) << replayed;
  EXPECT_TRUE(ended);
  // Its credential on another call (the close of another connection).
  request.mutable_close()->set_server_connection_id(1);
  EXPECT_TRUE(absl::IsUnauthenticated(RawLinkCall(request, &ended)));
  EXPECT_EQ(server_gate_->counters().refused_replay, 1u);
  EXPECT_EQ(server_gate_->counters().refused_credential, 1u);
}

// A swiftd holding the secret, but calling from an address outside the
// serving side's allow-list.
TEST(PeerAuthAddressTest, RefusesAddressesOutsideTheAllowList) {
  std::unique_ptr<PeerGate> server_gate = Gate(kSecret, {"10.77.0.0/24"});
  TestPeer remote(kIncarnation, /*link=*/true, server_gate.get());
  std::unique_ptr<PeerGate> client_gate = Gate(kSecret, {"127.0.0.1"});
  PeerDirectory directory(1, "127.0.0.1:1", {}, client_gate.get());
  absl::Status hello = directory.Get(remote.address(), Soon()).status();
  EXPECT_TRUE(absl::IsPermissionDenied(hello)) << hello;
  EXPECT_NE(hello.message().find("allow-list"), std::string::npos) << hello;

  PeerLinkClient link(HostPort{"127.0.0.1", remote.link()->port()}, {},
                      client_gate->authenticator());
  peer::v1::LinkRequest close;
  *close.mutable_close() = Close(1);
  absl::Status closed = link.Call(close, Soon()).status();
  EXPECT_TRUE(absl::IsPermissionDenied(closed)) << closed;
  EXPECT_EQ(server_gate->counters().refused_address, 2u);
  EXPECT_EQ(server_gate->counters().admitted, 0u);
}

// The calling side: an address a client names that is outside the
// allow-list is refused before any socket is opened to it.
TEST(PeerAuthDialTest, RefusesToDialOutsideTheAllowListBeforeDialling) {
  absl::StatusOr<UniqueFd> listener = ListenTcp(HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok());
  absl::StatusOr<uint16_t> port = LocalPort(listener->get());
  ASSERT_TRUE(port.ok());
  const std::string target = "127.0.0.1:" + std::to_string(*port);

  std::unique_ptr<PeerGate> gate = Gate(kSecret, {"10.77.0.0/24"});
  PeerDirectory directory(1, "10.77.0.1:1", {}, gate.get());
  absl::Status status = directory.Get(target, Soon()).status();
  EXPECT_TRUE(absl::IsPermissionDenied(status)) << status;
  EXPECT_EQ(gate->counters().refused_dial, 1u);
  EXPECT_TRUE(directory.List().empty());  // Nothing kept for it either.
  pollfd waiting{listener->get(), POLLIN, 0};
  EXPECT_EQ(poll(&waiting, 1, 300), 0) << "swiftd dialled " << target;
}

TEST(PeerAuthDialTest, DialsNamedPeersAndAllowedAddresses) {
  TestPeer remote(kIncarnation, /*link=*/true);  // Insecure, loopback.
  PeerGateOptions options;
  options.insecure = true;
  options.named_peers = {remote.address()};
  absl::StatusOr<std::unique_ptr<PeerGate>> gate = PeerGate::Create(options);
  ASSERT_TRUE(gate.ok()) << gate.status();
  // The named peer's host is allowed, by name and by address.
  EXPECT_TRUE((*gate)->allow_list().Allows(*IpAddress::Parse("127.0.0.1")));
  PeerDirectory directory(1, "127.0.0.1:1", {{"b", remote.address()}},
                          gate->get());
  EXPECT_TRUE(directory.Get("b", Soon()).ok());
  EXPECT_TRUE(directory.Get(remote.address(), Soon()).ok());
  EXPECT_EQ((*gate)->counters().refused_dial, 0u);
}

// A config reload that adds a network lets swiftd dial it from then on; one
// that takes it away refuses again.
TEST(PeerAuthDialTest, ANewAllowListAppliesToTheNextDial) {
  TestPeer remote(kIncarnation, /*link=*/true);  // Insecure, loopback.
  PeerGateOptions options;
  options.insecure = true;
  options.allow = {"10.77.0.0/24"};
  absl::StatusOr<std::unique_ptr<PeerGate>> gate = PeerGate::Create(options);
  ASSERT_TRUE(gate.ok()) << gate.status();
  PeerDirectory directory(1, "127.0.0.1:1", {}, gate->get());
  EXPECT_TRUE(absl::IsPermissionDenied(
      directory.Get(remote.address(), Soon()).status()));

  absl::StatusOr<PeerAllowList> wider =
      PeerGate::BuildAllowList({"10.77.0.0/24", "127.0.0.1"}, {});
  ASSERT_TRUE(wider.ok()) << wider.status();
  (*gate)->SetAllowList(*std::move(wider));
  EXPECT_TRUE(directory.Get(remote.address(), Soon()).ok());

  EXPECT_TRUE(absl::IsInvalidArgument(
      PeerGate::BuildAllowList({"10.0.0.1/24"}, {}).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(PeerGate::BuildAllowList({}, {}).status()));
}

// Mutual: a process answering on a peer's address without the secret (here
// a swiftd in insecure mode, which serves anyone; as would a tenant that
// bound the peer port while swiftd was down) cannot pass as its swiftd:
// its answers carry no proof, and the caller refuses them.
TEST(PeerAuthImpostorTest, RefusesAnswersWithoutTheClustersProof) {
  TestPeer impostor(kIncarnation, /*link=*/true);  // Insecure, loopback.
  FakeApplication app(&impostor.registry(), {});
  std::unique_ptr<PeerGate> client_gate = Gate(kSecret, {"127.0.0.1"});
  PeerDirectory directory(1, "127.0.0.1:1", {}, client_gate.get());
  absl::Status hello = directory.Get(impostor.address(), Soon()).status();
  EXPECT_TRUE(absl::IsUnauthenticated(hello)) << hello;

  PeerLinkClient link(HostPort{"127.0.0.1", impostor.link()->port()}, {},
                      client_gate->authenticator());
  peer::v1::LinkRequest connect;
  *connect.mutable_connect() = Connect("echo");
  absl::Status connected = link.Call(connect, Soon()).status();
  EXPECT_TRUE(absl::IsUnauthenticated(connected)) << connected;
  EXPECT_EQ(link.idle_count(), 0u);  // That connection is not kept.
}

// The proof is bound to the request: an answer to another request, or
// altered, does not verify.
TEST(PeerAuthReplyTest, ReplyProofIsBoundToTheRequestAndTheAnswer) {
  std::unique_ptr<PeerGate> gate = Gate(kSecret, {"127.0.0.1"});
  const PeerAuthenticator& auth = *gate->authenticator();
  peer::v1::ConnectResponse reply;
  reply.set_server_connection_id(4);
  const std::string mac =
      auth.SignReply(kPeerConnectMethod, std::string(16, 'n'), reply);
  EXPECT_TRUE(
      auth.VerifyReply(kPeerConnectMethod, std::string(16, 'n'), reply, mac)
          .ok());
  EXPECT_TRUE(absl::IsUnauthenticated(auth.VerifyReply(
      kPeerConnectMethod, std::string(16, 'm'), reply, mac)));
  EXPECT_TRUE(absl::IsUnauthenticated(
      auth.VerifyReply(kPeerCloseMethod, std::string(16, 'n'), reply, mac)));
  reply.set_server_connection_id(5);
  EXPECT_TRUE(absl::IsUnauthenticated(auth.VerifyReply(
      kPeerConnectMethod, std::string(16, 'n'), reply, mac)));
  EXPECT_TRUE(absl::IsUnauthenticated(
      auth.VerifyReply(kPeerConnectMethod, std::string(16, 'n'), reply, "")));
}

TEST(PeerGateTest, BrokersUnauthenticatedOnlyWhenToldTo) {
  PeerGateOptions options;
  options.allow = {"10.0.0.0/8"};
  absl::Status no_secret = PeerGate::Create(options).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(no_secret)) << no_secret;
  EXPECT_NE(no_secret.message().find("--peer_secret_file"), std::string::npos);
  options.insecure = true;
  EXPECT_TRUE(PeerGate::Create(options).ok());
  options.allow.clear();
  absl::Status nobody = PeerGate::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(nobody)) << nobody;
  options.allow = {"not-an-address"};
  EXPECT_TRUE(absl::IsInvalidArgument(PeerGate::Create(options).status()));
  options.allow = {"10.0.0.0/8"};
  options.secret = "short";
  EXPECT_TRUE(absl::IsInvalidArgument(PeerGate::Create(options).status()));
}

}  // namespace
}  // namespace swift
