// Host tests for the lean peer link over localhost: a real PeerLinkServer
// (on a PeerHandler with a fake application) and PeerLinkClient: connect,
// close, pipelined closes, errors, malformed frames, and the client's
// bounded idle pool.
#include <sys/socket.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/tcp_frame.h"
#include "common/testing/eventually.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "daemon/broker/fake_application.h"
#include "daemon/broker/peer_answer.h"
#include "daemon/broker/peer_handler.h"
#include "daemon/broker/peer_link_client.h"
#include "daemon/broker/peer_link_server.h"
#include "daemon/broker/test_peer.h"
#include "gtest/gtest.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;

constexpr uint64_t kIncarnation = 5;

class PeerLinkTest : public ::testing::Test {
 public:
  static peer::v1::LinkRequest Connect(const std::string& service) {
    peer::v1::LinkRequest request;
    peer::v1::ConnectRequest* connect = request.mutable_connect();
    connect->set_api_version(kControlApiVersion);
    connect->set_expected_incarnation(kIncarnation);
    connect->set_service(service);
    connect->set_client_endpoint(verbs::EncodeEndpoint(verbs::QpEndpoint()));
    return request;
  }
  static peer::v1::LinkRequest Close(uint64_t id) {
    peer::v1::LinkRequest request;
    request.mutable_close()->set_api_version(kControlApiVersion);
    request.mutable_close()->set_expected_incarnation(kIncarnation);
    request.mutable_close()->set_server_connection_id(id);
    return request;
  }

 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<PeerLinkServer>> server =
        PeerLinkServer::Start(HostPort{"127.0.0.1", 0}, &handler_, gate_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = HostPort{"127.0.0.1", server_->port()};
  }
  static absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

  ServiceRegistry registry_;
  std::unique_ptr<PeerGate> gate_ = TestPeer::InsecureLoopbackGate();
  PeerHandler handler_{kIncarnation, "127.0.0.1:1", {}, &registry_};
  std::unique_ptr<PeerLinkServer> server_;
  HostPort address_;
};

TEST_F(PeerLinkTest, ConnectsAndClosesOverTheLink) {
  FakeApplication app(&registry_, {});
  PeerLinkClient client(address_);
  absl::StatusOr<peer::v1::LinkResponse> connected =
      client.Call(Connect("echo"), Soon());
  ASSERT_TRUE(connected.ok()) << connected.status();
  ASSERT_TRUE(connected->has_connect());
  EXPECT_EQ(*verbs::DecodeEndpoint(connected->connect().server_endpoint()),
            FakeApplication::Endpoint(0));
  absl::StatusOr<peer::v1::LinkResponse> closed =
      client.Call(Close(connected->connect().server_connection_id()), Soon());
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_TRUE(closed->has_close());
  EXPECT_TRUE(app.WaitForCloses(1));
}

TEST_F(PeerLinkTest, PeerErrorsArriveAsTheirStatus) {
  PeerLinkClient client(address_);
  EXPECT_TRUE(
      absl::IsNotFound(client.Call(Connect("nothing"), Soon()).status()));
  EXPECT_TRUE(absl::IsUnimplemented(
      client.Call(peer::v1::LinkRequest(), Soon()).status()));
  // An error answer does not cost the connection.
  EXPECT_EQ(client.idle_count(), 1u);
  EXPECT_EQ(server_->connection_count(), 1);
}

TEST_F(PeerLinkTest, PipelinedClosesAnswerInOrder) {
  FakeApplication app(&registry_, {});
  PeerLinkClient client(address_);
  absl::StatusOr<peer::v1::LinkResponse> a =
      client.Call(Connect("echo"), Soon());
  absl::StatusOr<peer::v1::LinkResponse> b =
      client.Call(Connect("echo"), Soon());
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<peer::v1::LinkRequest> closes = {
      Close(a->connect().server_connection_id()), Close(12345),
      Close(b->connect().server_connection_id())};
  std::vector<absl::Status> statuses =
      client.CallPipelined(std::move(closes), Soon());
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(absl::IsNotFound(statuses[1])) << statuses[1];
  EXPECT_TRUE(statuses[2].ok()) << statuses[2];
  EXPECT_TRUE(app.WaitForCloses(2));
}

// A connect's answer is sent by the thread that reads the application's
// (its service channel's) while the link thread reads on: a request
// pipelined behind a slow connect is still answered after it.
TEST_F(PeerLinkTest, AConnectPipelinedBeforeACloseIsAnsweredFirst) {
  FakeApplication::Options slow;
  slow.accept_delay = absl::Milliseconds(200);
  FakeApplication app(&registry_, slow);
  PeerLinkClient client(address_);
  std::vector<absl::Status> statuses =
      client.CallPipelined({Connect("echo"), Close(12345)}, Soon());
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(absl::IsNotFound(statuses[1])) << statuses[1];
  EXPECT_EQ(registry_.Stats()[0].connections, 1);
  EXPECT_EQ(client.idle_count(), 1u);
}

// The application answers past the caller's deadline: the link answers
// kDeadlineExceeded at the deadline, serves the connection on, and the
// late QP is recycled.
TEST_F(PeerLinkTest,
       ALateApplicationIsAnsweredAtTheDeadlineAndTheLinkServesOn) {
  FakeApplication::Options late;
  late.accept_delay = absl::Milliseconds(600);
  FakeApplication app(&registry_, late);
  absl::StatusOr<UniqueFd> raw = ConnectTcp(address_);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(SetIoTimeout(raw->get(), absl::Seconds(5)).ok());
  // Asked raw: PeerLinkClient would give up at the same deadline.
  auto ask = [&](peer::v1::LinkRequest request) {
    EXPECT_TRUE(SendFrame(raw->get(), request.SerializeAsString()).ok());
    absl::StatusOr<std::string> frame = RecvFrame(raw->get());
    peer::v1::LinkResponse response;
    EXPECT_TRUE(frame.ok() && response.ParseFromString(*frame))
        << frame.status();
    return DecodeStatus(response);
  };
  peer::v1::LinkRequest connect = Connect("echo");
  connect.set_timeout_ms(100);
  const absl::Status first = ask(connect);
  EXPECT_TRUE(absl::IsDeadlineExceeded(first)) << first;
  EXPECT_TRUE(absl::IsNotFound(ask(Close(12345))));
  EXPECT_EQ(server_->connection_count(), 1);
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(registry_.Stats()[0].connections, 0);
}

// A peer that leaves while its connect is in flight: the link's thread
// ends once the answer went nowhere, and the connection the application
// made stays the peer's to close (as an abandoned connect).
TEST_F(PeerLinkTest, APeerThatLeavesMidConnectEndsItsConnection) {
  FakeApplication::Options slow;
  slow.accept_delay = absl::Milliseconds(200);
  FakeApplication app(&registry_, slow);
  {
    absl::StatusOr<UniqueFd> raw = ConnectTcp(address_);
    ASSERT_TRUE(raw.ok());
    peer::v1::LinkRequest connect = Connect("echo");
    connect.mutable_connect()->set_client_connection_id(77);
    ASSERT_TRUE(SendFrame(raw->get(), connect.SerializeAsString()).ok());
    ASSERT_TRUE(Eventually([&] { return app.accepts() == 1; }));
  }
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
  EXPECT_EQ(registry_.Stats()[0].connections, 1);
  ASSERT_TRUE(registry_.CloseAbandoned("127.0.0.1", 77).ok());
  EXPECT_TRUE(app.WaitForCloses(1));
}

// The remote closer sends a batch and reads its answers on its next
// errand: the peer acts on the closes at once, and the answers wait.
TEST_F(PeerLinkTest, APipelineIsHeardAtOnceAndCollectedLater) {
  FakeApplication app(&registry_, {});
  PeerLinkClient client(address_);
  absl::StatusOr<peer::v1::LinkResponse> a =
      client.Call(Connect("echo"), Soon());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(client.idle_count(), 1u);
  PeerLinkClient::Pipeline pipeline = client.SendPipelined(
      {Close(a->connect().server_connection_id()), Close(12345)}, Soon());
  EXPECT_EQ(client.idle_count(), 0u);  // The pipeline holds it.
  EXPECT_TRUE(app.WaitForCloses(1));   // Before anything was read.
  const std::vector<absl::Status> statuses =
      client.Collect(std::move(pipeline));
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(absl::IsNotFound(statuses[1])) << statuses[1];
  EXPECT_EQ(client.idle_count(), 1u);  // Given back, and used again:
  EXPECT_TRUE(client.Call(Connect("echo"), Soon()).ok());
  EXPECT_EQ(server_->connection_count(), 1);
}

// A pipeline to a peer that is not there fails every request with the
// transport's error, at once.
TEST(PeerLinkClientTest, APipelineToNobodyFailsEachRequest) {
  absl::StatusOr<UniqueFd> listener = ListenTcp(HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok());
  const uint16_t port = *LocalPort(listener->get());
  listener->Reset();  // Nobody listens there now.
  PeerLinkClient client(HostPort{"127.0.0.1", port});
  const std::vector<absl::Status> statuses = client.Collect(
      client.SendPipelined({PeerLinkTest::Close(1), PeerLinkTest::Close(2)},
                           absl::Now() + absl::Seconds(5)));
  ASSERT_EQ(statuses.size(), 2u);
  for (const absl::Status& status : statuses) {
    EXPECT_TRUE(absl::IsUnavailable(status)) << status;
    // Refused at the dial: never sent, safe to make again (the Broker
    // retries a peer whose cached link port refuses, as after a restart).
    EXPECT_TRUE(IsNotReached(status)) << status;
    EXPECT_FALSE(IsPeerAnswer(status)) << status;
  }
  EXPECT_EQ(client.idle_count(), 0u);
}

TEST_F(PeerLinkTest, MalformedFrameIsRefusedAndEndsTheConnection) {
  absl::StatusOr<UniqueFd> raw = ConnectTcp(address_);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(SetIoTimeout(raw->get(), absl::Seconds(5)).ok());
  ASSERT_TRUE(SendFrame(raw->get(), "\xff\xff\xff not a LinkRequest").ok());
  absl::StatusOr<std::string> frame = RecvFrame(raw->get());
  ASSERT_TRUE(frame.ok()) << frame.status();
  peer::v1::LinkResponse response;
  ASSERT_TRUE(response.ParseFromString(*frame));
  EXPECT_EQ(DecodeStatus(response),
            absl::InvalidArgumentError("malformed peer link request"));
  EXPECT_TRUE(absl::IsUnavailable(RecvFrame(raw->get()).status()));
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
}

TEST_F(PeerLinkTest, OversizeFrameIsRefusedAndEndsTheConnection) {
  absl::StatusOr<UniqueFd> raw = ConnectTcp(address_);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(SetIoTimeout(raw->get(), absl::Seconds(5)).ok());
  ASSERT_TRUE(SendFrame(raw->get(), std::string(kMaxFrameBytes + 1, 'x')).ok());
  absl::StatusOr<std::string> frame = RecvFrame(raw->get());
  ASSERT_TRUE(frame.ok()) << frame.status();
  peer::v1::LinkResponse response;
  ASSERT_TRUE(response.ParseFromString(*frame));
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeStatus(response)));
  EXPECT_FALSE(RecvFrame(raw->get()).ok());
}

TEST_F(PeerLinkTest, IdleConnectionIsReused) {
  FakeApplication app(&registry_, {});
  PeerLinkClient client(address_);
  ASSERT_TRUE(client.Call(Connect("echo"), Soon()).ok());
  ASSERT_TRUE(client.Call(Connect("echo"), Soon()).ok());
  EXPECT_EQ(client.idle_count(), 1u);
  EXPECT_EQ(server_->connection_count(), 1);
}

// issue 10 finding 11: a burst's extra connections are closed when they
// come back, not kept at the peak.
TEST_F(PeerLinkTest, IdlePoolIsBounded) {
  FakeApplication::Options slow;
  slow.endpoints = 5;
  slow.accept_delay = absl::Milliseconds(100);
  FakeApplication app(&registry_, slow);
  IdlePool<UniqueFd>::Options pool;
  pool.max_idle = 2;
  PeerLinkClient client(address_, pool);
  std::vector<std::thread> callers;
  for (int i = 0; i < 5; ++i) {
    callers.emplace_back(
        [&] { EXPECT_TRUE(client.Call(Connect("echo"), Soon()).ok()); });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(client.idle_count(), 2u);
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 2; }))
      << server_->connection_count();
}

// issue 10: a peer whose --peer_link_idle_timeout is shorter than the
// time this side keeps idle connections closes one this side still holds;
// the next call must not be sent on it and fail.
TEST_F(PeerLinkTest, AnIdleConnectionThePeerClosedIsNotUsed) {
  PeerLinkLimits limits;
  limits.idle_timeout = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<PeerLinkServer>> impatient =
      PeerLinkServer::Start(HostPort{"127.0.0.1", 0}, &handler_, gate_.get(),
                            limits);
  ASSERT_TRUE(impatient.ok()) << impatient.status();
  FakeApplication app(&registry_, {});
  PeerLinkClient client(HostPort{"127.0.0.1", (*impatient)->port()});
  ASSERT_TRUE(client.Call(Connect("echo"), Soon()).ok());
  ASSERT_EQ(client.idle_count(), 1u);
  ASSERT_TRUE(Eventually([&] { return (*impatient)->connection_count() == 0; }))
      << "the server kept its idle connection";
  absl::StatusOr<peer::v1::LinkResponse> again =
      client.Call(Connect("echo"), Soon());
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(client.idle_closed_by_peer(), 1u);
  EXPECT_EQ(client.idle_count(), 1u);
}

// A peer of the client's that is not a PeerLinkServer: it reads one
// request, sends `answers` (payloads, framed, in one send()), then keeps
// the connection open until it is destroyed.
class RawPeer {
 public:
  explicit RawPeer(std::vector<std::string> answers) {
    absl::StatusOr<UniqueFd> listener = ListenTcp(HostPort{"127.0.0.1", 0});
    EXPECT_TRUE(listener.ok()) << listener.status();
    listener_ = *std::move(listener);
    port_ = *LocalPort(listener_.get());
    thread_ = std::thread([this, answers = std::move(answers)] {
      absl::StatusOr<UniqueFd> connection = AcceptTcp(listener_.get());
      if (!connection.ok() || !RecvFrame(connection->get()).ok()) return;
      std::string bytes;
      for (const std::string& answer : answers) {
        bytes += EncodeFrame(answer);
      }
      (void)send(connection->get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      done_.WaitForNotification();
    });
  }
  ~RawPeer() {
    done_.Notify();
    thread_.join();
  }
  HostPort address() const { return HostPort{"127.0.0.1", port_}; }

 private:
  UniqueFd listener_;
  uint16_t port_ = 0;
  absl::Notification done_;
  std::thread thread_;
};

// A peer that never answers must not hold the caller past its deadline
// (the waits are poll()s against it, whatever the socket's timeouts).
TEST(PeerLinkClientTest, ASilentPeerFailsTheCallAtItsDeadline) {
  RawPeer silent({});
  PeerLinkClient client(silent.address());
  const absl::Time start = absl::Now();
  absl::StatusOr<peer::v1::LinkResponse> answer = client.Call(
      PeerLinkTest::Connect("echo"), start + absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(answer.status())) << answer.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(client.idle_count(), 0u);  // Its connection is not kept.
}

// One answer per request: a second one in the same read is not taken for
// the next call's; the answer stands, the connection is not reused.
TEST(PeerLinkClientTest, APeerThatAnswersTwiceLosesTheConnection) {
  const std::string answer = peer::v1::LinkResponse().SerializeAsString();
  RawPeer chatty({answer, answer});
  PeerLinkClient client(chatty.address());
  absl::StatusOr<peer::v1::LinkResponse> first = client.Call(
      PeerLinkTest::Connect("echo"), absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(client.idle_count(), 0u);
}

TEST_F(PeerLinkTest, ShutdownEndsConnectionsAndCallsFailCleanly) {
  PeerLinkClient client(address_);
  ASSERT_TRUE(absl::IsNotFound(client.Call(Connect("x"), Soon()).status()));
  server_->Shutdown();
  EXPECT_EQ(server_->connection_count(), 0);
  absl::Status after = client.Call(Connect("x"), Soon()).status();
  EXPECT_TRUE(absl::IsUnavailable(after)) << after;
}

}  // namespace
}  // namespace swift
