// Host tests for PeerHandler's logic, called directly: version and
// incarnation checks, Hello's contents, Connect and Close through a
// ServiceRegistry with a fake application.
#include "daemon/broker/peer_handler.h"

#include "absl/strings/match.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "daemon/broker/fake_application.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

constexpr uint64_t kIncarnation = 77;
// The calling swiftd, as its transport names it.
constexpr char kPeer[] = "10.0.0.2";

class PeerHandlerTest : public ::testing::Test {
 protected:
  peer::v1::ConnectRequest ConnectRequest(uint64_t expected = kIncarnation) {
    peer::v1::ConnectRequest request;
    request.set_api_version(kControlApiVersion);
    request.set_expected_incarnation(expected);
    request.set_service("echo");
    verbs::QpEndpoint client;
    client.qpn = 9;
    request.set_client_endpoint(verbs::EncodeEndpoint(client));
    return request;
  }
  absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

  ServiceRegistry registry_;
  PeerHandler handler_{kIncarnation, "10.0.0.1:7000",
                       std::vector<peer::v1::PeerDevice>(1), &registry_};
};

TEST_F(PeerHandlerTest, HelloSaysWhoThisSwiftdIs) {
  FakeApplication app(&registry_, {});
  handler_.set_link_port(4242);
  peer::v1::HelloRequest request;
  request.set_api_version(kControlApiVersion);
  absl::StatusOr<peer::v1::HelloResponse> hello = handler_.Hello(request);
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->incarnation(), kIncarnation);
  EXPECT_EQ(hello->address(), "10.0.0.1:7000");
  EXPECT_EQ(hello->devices_size(), 1);
  ASSERT_EQ(hello->services_size(), 1);
  EXPECT_EQ(hello->services(0), "echo");
  EXPECT_EQ(hello->link_port(), 4242u);
  EXPECT_EQ(hello->api_version(), kControlApiVersion);
}

TEST_F(PeerHandlerTest, RefusesOtherApiVersions) {
  peer::v1::HelloRequest hello;
  hello.set_api_version(kControlApiVersion + 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(handler_.Hello(hello).status()));
  peer::v1::ConnectRequest connect = ConnectRequest();
  connect.set_api_version(0);  // Never set: a malformed request.
  EXPECT_TRUE(absl::IsInvalidArgument(
      handler_.Connect(connect, Soon(), kPeer).status()));
}

TEST_F(PeerHandlerTest, StaleIncarnationIsAborted) {
  FakeApplication app(&registry_, {});
  EXPECT_TRUE(absl::IsAborted(
      handler_.Connect(ConnectRequest(kIncarnation + 1), Soon(), kPeer)
          .status()));
  peer::v1::CloseRequest close;
  close.set_api_version(kControlApiVersion);
  close.set_expected_incarnation(kIncarnation + 1);
  EXPECT_TRUE(absl::IsAborted(handler_.Close(close, kPeer)));
  EXPECT_EQ(app.accepts(), 0);
}

// Issue 10, finding 4: expected_incarnation=0 skipped the check. Connect
// and Close must name the incarnation they expect.
TEST_F(PeerHandlerTest, RequestsWithoutAnIncarnationAreRefused) {
  FakeApplication app(&registry_, {});
  absl::Status connect =
      handler_.Connect(ConnectRequest(0), Soon(), kPeer).status();
  EXPECT_TRUE(absl::IsInvalidArgument(connect)) << connect;
  EXPECT_TRUE(absl::StrContains(connect.message(), "expected_incarnation"))
      << connect;
  EXPECT_EQ(app.accepts(), 0);

  absl::StatusOr<peer::v1::ConnectResponse> connected =
      handler_.Connect(ConnectRequest(), Soon(), kPeer);
  ASSERT_TRUE(connected.ok()) << connected.status();
  peer::v1::CloseRequest close;
  close.set_api_version(kControlApiVersion);
  close.set_server_connection_id(connected->server_connection_id());
  EXPECT_TRUE(absl::IsInvalidArgument(handler_.Close(close, kPeer)));
  EXPECT_TRUE(app.closed_connections().empty());
}

// Issue 10, finding 4: ids are sequential, and any authenticated peer
// could close the connections another peer made.
TEST_F(PeerHandlerTest, OnlyThePeerThatConnectedMayClose) {
  FakeApplication app(&registry_, {});
  absl::StatusOr<peer::v1::ConnectResponse> connected =
      handler_.Connect(ConnectRequest(), Soon(), kPeer);
  ASSERT_TRUE(connected.ok()) << connected.status();
  peer::v1::CloseRequest close;
  close.set_api_version(kControlApiVersion);
  close.set_expected_incarnation(kIncarnation);
  close.set_server_connection_id(connected->server_connection_id());
  absl::Status stolen = handler_.Close(close, "10.0.0.9");
  EXPECT_TRUE(absl::IsPermissionDenied(stolen)) << stolen;
  EXPECT_TRUE(app.closed_connections().empty());
  EXPECT_TRUE(handler_.Close(close, kPeer).ok());
  EXPECT_TRUE(app.WaitForCloses(1));
}

TEST_F(PeerHandlerTest, ConnectsAndCloses) {
  FakeApplication app(&registry_, {});
  absl::StatusOr<peer::v1::ConnectResponse> connected =
      handler_.Connect(ConnectRequest(), Soon(), kPeer);
  ASSERT_TRUE(connected.ok()) << connected.status();
  absl::StatusOr<verbs::QpEndpoint> server =
      verbs::DecodeEndpoint(connected->server_endpoint());
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(*server, FakeApplication::Endpoint(0));
  EXPECT_EQ(connected->incarnation(), kIncarnation);
  EXPECT_EQ(connected->app_accept_us(), 7u);

  peer::v1::CloseRequest close;
  close.set_api_version(kControlApiVersion);
  close.set_expected_incarnation(kIncarnation);
  close.set_server_connection_id(connected->server_connection_id());
  EXPECT_TRUE(handler_.Close(close, kPeer).ok());
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_TRUE(absl::IsNotFound(handler_.Close(close, kPeer)));
}

TEST_F(PeerHandlerTest, BadEndpointOrServiceIsTheCallersError) {
  peer::v1::ConnectRequest request = ConnectRequest();
  request.set_client_endpoint("garbage");
  EXPECT_TRUE(absl::IsInvalidArgument(
      handler_.Connect(request, Soon(), kPeer).status()));
  EXPECT_TRUE(absl::IsNotFound(
      handler_.Connect(ConnectRequest(), Soon(), kPeer).status()));
}

TEST_F(PeerHandlerTest, WatchSaysTheIncarnationAndWhatTheServicesClosed) {
  FakeApplication app(&registry_, {});
  peer::v1::ConnectRequest connect = ConnectRequest();
  connect.set_from_incarnation(5);
  connect.set_client_connection_id(501);
  absl::StatusOr<peer::v1::ConnectResponse> connected =
      handler_.Connect(connect, Soon(), kPeer);
  ASSERT_TRUE(connected.ok()) << connected.status();
  app.CloseConnection(connected->server_connection_id());

  peer::v1::WatchRequest watch;
  watch.set_api_version(kControlApiVersion);
  watch.set_from_incarnation(5);
  absl::StatusOr<peer::v1::WatchResponse> watched;
  const absl::Time give_up = Soon();
  do {
    watched = handler_.Watch(watch, kPeer);
    ASSERT_TRUE(watched.ok()) << watched.status();
  } while (watched->closed_size() == 0 && absl::Now() < give_up);
  EXPECT_EQ(watched->incarnation(), kIncarnation);
  ASSERT_EQ(watched->closed_size(), 1);
  EXPECT_EQ(watched->closed(0), 501u);
  // Another peer hears nothing of it.
  EXPECT_EQ(handler_.Watch(watch, "10.0.0.3")->closed_size(), 0);
  // Acknowledged: forgotten.
  watch.add_acked_closed(501);
  EXPECT_EQ(handler_.Watch(watch, kPeer)->closed_size(), 0);
}

TEST_F(PeerHandlerTest, WatchRefusesMalformedRequests) {
  peer::v1::WatchRequest watch;
  watch.set_api_version(kControlApiVersion);
  EXPECT_TRUE(absl::IsInvalidArgument(handler_.Watch(watch, kPeer).status()));
  watch.set_from_incarnation(5);
  for (int i = 0; i <= PeerHandler::kMaxWatchAcks; ++i) {
    watch.add_acked_closed(i + 1);
  }
  EXPECT_TRUE(absl::IsInvalidArgument(handler_.Watch(watch, kPeer).status()));
  watch.clear_acked_closed();
  watch.set_api_version(kControlApiVersion + 1);
  EXPECT_TRUE(
      absl::IsFailedPrecondition(handler_.Watch(watch, kPeer).status()));
}

}  // namespace
}  // namespace swift
