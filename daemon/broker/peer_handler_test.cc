// Host tests for PeerHandler's logic, called directly: version and
// incarnation checks, Hello's contents, Connect and Close through a
// ServiceRegistry with a fake application.
#include "daemon/broker/peer_handler.h"

#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "daemon/broker/fake_application.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

constexpr uint64_t kIncarnation = 77;

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
  EXPECT_TRUE(
      absl::IsInvalidArgument(handler_.Connect(connect, Soon()).status()));
}

TEST_F(PeerHandlerTest, StaleIncarnationIsAborted) {
  FakeApplication app(&registry_, {});
  EXPECT_TRUE(absl::IsAborted(
      handler_.Connect(ConnectRequest(kIncarnation + 1), Soon()).status()));
  peer::v1::CloseRequest close;
  close.set_api_version(kControlApiVersion);
  close.set_expected_incarnation(kIncarnation + 1);
  EXPECT_TRUE(absl::IsAborted(handler_.Close(close)));
  EXPECT_EQ(app.accepts(), 0);
  // 0: whatever incarnation it is.
  EXPECT_TRUE(handler_.Connect(ConnectRequest(0), Soon()).ok());
}

TEST_F(PeerHandlerTest, ConnectsAndCloses) {
  FakeApplication app(&registry_, {});
  absl::StatusOr<peer::v1::ConnectResponse> connected =
      handler_.Connect(ConnectRequest(), Soon());
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
  EXPECT_TRUE(handler_.Close(close).ok());
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_TRUE(absl::IsNotFound(handler_.Close(close)));
}

TEST_F(PeerHandlerTest, BadEndpointOrServiceIsTheCallersError) {
  peer::v1::ConnectRequest request = ConnectRequest();
  request.set_client_endpoint("garbage");
  EXPECT_TRUE(
      absl::IsInvalidArgument(handler_.Connect(request, Soon()).status()));
  EXPECT_TRUE(
      absl::IsNotFound(handler_.Connect(ConnectRequest(), Soon()).status()));
}

}  // namespace
}  // namespace swift
