// The Control API end to end: a real swiftd on a temporary Unix socket,
// answered through libswift, as an application would use it.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/credentials.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "client/control/control_client.h"
#include "common/seqpacket_socket.h"
#include "common/version.h"
#include "proto/fast_path.pb.h"
#include "proto/control_service.grpc.pb.h"
#include "swift/client.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::TestSwiftd;

ClientOptions OptionsFor(const TestSwiftd& swiftd, bool attach) {
  ClientOptions options;
  options.socket_path = swiftd.socket_path();
  options.client_name = "control_api_test";
  options.attach = attach;
  return options;
}

TEST(ControlApiTest, DefaultSocketPathMatchesTheDaemonDefault) {
  EXPECT_EQ(ClientOptions().socket_path, kDefaultSocketPath);
}

TEST(ControlApiTest, GetStatusReportsTheRunningDaemon) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto client = Client::Connect(OptionsFor(swiftd, /*attach=*/false));
  ASSERT_TRUE(client.ok()) << client.status();

  absl::StatusOr<DaemonStatus> status = (*client)->GetStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->version, kSwiftVersion);
  EXPECT_EQ(status->api_version, kControlApiVersion);
  EXPECT_EQ(status->pid, getpid());
  EXPECT_EQ(status->socket_path, swiftd.socket_path());
  EXPECT_EQ(status->devices_count,
            static_cast<uint32_t>(swiftd.server().devices().open_count()));
  EXPECT_EQ(status->clients_count, 0u);
}

TEST(ControlApiTest, ListDevicesMatchesTheDeviceCache) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto client = ControlClient::Connect(OptionsFor(swiftd, /*attach=*/false));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<v1::ListDevicesResponse> devices = (*client)->ListDevices();
  ASSERT_TRUE(devices.ok()) << devices.status();
  const auto& entries = swiftd.server().devices().entries();
  ASSERT_EQ(devices->devices_size(), static_cast<int>(entries.size()));
  for (int i = 0; i < devices->devices_size(); ++i) {
    EXPECT_EQ(devices->devices(i).name(), entries[i].name);
  }
}

TEST(ControlApiTest, PingEchoesEverySequence) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto client = Client::Connect(OptionsFor(swiftd, /*attach=*/false));
  ASSERT_TRUE(client.ok()) << client.status();
  for (uint64_t sequence = 1; sequence <= 100; ++sequence) {
    ASSERT_TRUE((*client)->Ping(sequence).ok());
  }
}

TEST(ControlApiTest, FastPathAndGrpcBothAnswerPing) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto client = Client::Connect(OptionsFor(swiftd, /*attach=*/false));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->has_fast_path());
  for (uint64_t sequence = 1; sequence <= 50; ++sequence) {
    ASSERT_TRUE((*client)->Ping(sequence, Transport::kFastPath).ok());
    ASSERT_TRUE((*client)->Ping(sequence, Transport::kGrpc).ok());
  }
}

TEST(ControlApiTest, FastPathIsUnavailableOnceTheDaemonStops) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto client = Client::Connect(OptionsFor(swiftd, /*attach=*/false));
  ASSERT_TRUE(client.ok()) << client.status();
  swiftd.Stop();
  EXPECT_EQ((*client)->Ping(1, Transport::kFastPath).code(),
            absl::StatusCode::kUnavailable);
}

TEST(ControlApiTest, FastPathRefusesCallsBeforeHelloAndWrongVersions) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto socket =
      SeqpacketSocket::Connect(swiftd.server().fast_path_socket_path());
  ASSERT_TRUE(socket.ok()) << socket.status();
  auto call = [&socket](const v1::FastRequest& request) {
    EXPECT_TRUE(socket->Send(request.SerializeAsString()).ok());
    v1::FastResponse response;
    auto message = socket->Receive();
    EXPECT_TRUE(message.ok()) << message.status();
    EXPECT_TRUE(message.ok() && response.ParseFromString(message->data));
    return response;
  };
  v1::FastRequest ping;
  ping.set_call_id(1);
  ping.mutable_ping()->set_sequence(5);
  EXPECT_EQ(call(ping).code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));

  v1::FastRequest hello;
  hello.set_call_id(2);
  hello.mutable_hello()->set_api_version(kControlApiVersion + 7);
  v1::FastResponse refused = call(hello);
  EXPECT_EQ(refused.code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(
      refused.message().find("v" + std::to_string(kControlApiVersion + 7)),
      std::string::npos);

  hello.mutable_hello()->set_api_version(kControlApiVersion);
  EXPECT_EQ(call(hello).code(), 0);
  v1::FastResponse pong = call(ping);
  EXPECT_EQ(pong.code(), 0);
  EXPECT_EQ(pong.call_id(), 1u);
  EXPECT_EQ(pong.ping().sequence(), 5u);

  // Garbage is answered with an error, and the connection stays usable.
  ASSERT_TRUE(socket->Send("\xff\xff\xff garbage").ok());
  auto garbage_reply = socket->Receive();
  ASSERT_TRUE(garbage_reply.ok());
  v1::FastResponse garbage_response;
  ASSERT_TRUE(garbage_response.ParseFromString(garbage_reply->data));
  EXPECT_EQ(garbage_response.code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(call(ping).ping().sequence(), 5u);
}

// Issue 10, finding 10: gRPC cannot tell who calls on its Unix socket, so
// the listings of tenants' objects are refused there and served on the
// fast path, per caller.
TEST(ControlApiTest, TenantListingsAreServedOnTheFastPathOnly) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto channel = grpc::CreateChannel("unix:" + swiftd.socket_path(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Control::NewStub(channel);
  v1::ListConnectionsRequest connections;
  connections.mutable_header()->set_api_version(kControlApiVersion);
  v1::ListConnectionsResponse connections_response;
  grpc::ClientContext context;
  const grpc::Status refused =
      stub->ListConnections(&context, connections, &connections_response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(refused.error_message().find("fast path"), std::string::npos)
      << refused.error_message();
  v1::ListServicesRequest services;
  services.mutable_header()->set_api_version(kControlApiVersion);
  v1::ListServicesResponse services_response;
  grpc::ClientContext services_context;
  EXPECT_EQ(
      stub->ListServices(&services_context, services, &services_response)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::ListWorkersRequest workers;
  workers.mutable_header()->set_api_version(kControlApiVersion);
  v1::ListWorkersResponse workers_response;
  grpc::ClientContext workers_context;
  EXPECT_EQ(stub->ListWorkers(&workers_context, workers, &workers_response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The client lists on the fast path.
  ClientOptions options;
  options.socket_path = swiftd.socket_path();
  options.attach = false;
  auto client = ControlClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->ListConnections().ok());
  EXPECT_TRUE((*client)->ListServices().ok());
  EXPECT_TRUE((*client)->ListWorkers().ok());
  absl::StatusOr<v1::ListTenantsResponse> tenants = (*client)->ListTenants();
  ASSERT_TRUE(tenants.ok()) << tenants.status();
  EXPECT_TRUE(tenants->tenants().empty());  // Root: nobody holds anything.
}

// A listing longer than one fast path message comes in pages, whole.
TEST(ControlApiTest, LongListingsArriveWhole) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  std::vector<SeqpacketSocket> channels;
  // ~700 bytes each: two pages (and under every per-uid cap).
  constexpr int kServices = 120;
  for (int i = 0; i < kServices; ++i) {
    auto socket =
        SeqpacketSocket::Connect(swiftd.server().fast_path_socket_path());
    ASSERT_TRUE(socket.ok()) << socket.status();
    v1::FastRequest hello;
    hello.mutable_hello()->set_api_version(kControlApiVersion);
    hello.mutable_hello()->set_client_name(std::string(64, 'n'));
    hello.mutable_hello()->set_channel(v1::FastHello::SERVICE);
    ASSERT_TRUE(socket->Send(hello.SerializeAsString()).ok());
    ASSERT_TRUE(socket->Receive().ok());
    v1::ServiceUp up;
    up.mutable_listen()->set_service(std::string(600, 's') +
                                     std::to_string(i));
    ASSERT_TRUE(socket->Send(up.SerializeAsString()).ok());
    auto reply = socket->Receive();
    ASSERT_TRUE(reply.ok());
    channels.push_back(*std::move(socket));
  }
  ClientOptions options;
  options.socket_path = swiftd.socket_path();
  options.attach = false;
  auto client = ControlClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<v1::ListServicesResponse> services = (*client)->ListServices();
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_EQ(services->services_size(), kServices);
  EXPECT_EQ(services->remaining(), 0u);
}

TEST(ControlApiTest, AttachedClientsAreCountedWhileTheyLive) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto observer = Client::Connect(OptionsFor(swiftd, /*attach=*/false));
  ASSERT_TRUE(observer.ok()) << observer.status();
  {
    auto first = Client::Connect(OptionsFor(swiftd, /*attach=*/true));
    auto second = Client::Connect(OptionsFor(swiftd, /*attach=*/true));
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_NE((*first)->client_id(), 0u);
    EXPECT_NE((*first)->client_id(), (*second)->client_id());
    EXPECT_EQ((*observer)->GetStatus()->clients_count, 2u);
    std::vector<ClientRegistry::Client> listed =
        swiftd.server().clients().List();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].name, "control_api_test");
    EXPECT_EQ(listed[0].pid, getpid());
  }
  // Detaching is asynchronous on the daemon's side: wait for it, bounded.
  for (int i = 0; i < 200 && swiftd.server().clients().Count() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ((*observer)->GetStatus()->clients_count, 0u);
}

TEST(ControlApiTest, WrongApiVersionIsRefusedWithBothVersions) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto channel = grpc::CreateChannel("unix:" + swiftd.socket_path(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Control::NewStub(channel);
  v1::GetStatusRequest request;
  request.mutable_header()->set_api_version(99);
  v1::GetStatusResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub->GetStatus(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("v99"), std::string::npos);

  grpc::ClientContext no_header_context;
  status =
      stub->GetStatus(&no_header_context, v1::GetStatusRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(ControlApiTest, HealthCheckSaysServing) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  auto channel = grpc::CreateChannel("unix:" + swiftd.socket_path(),
                                     grpc::InsecureChannelCredentials());
  // grpc.health.v1.Health/Check with an empty request: the answer's field 1
  // is the status, SERVING = 1 (encoded as bytes 08 01).
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  grpc::ByteBuffer request_buffer;
  grpc::ByteBuffer response_buffer;
  grpc::Slice empty("", 0);
  request_buffer = grpc::ByteBuffer(&empty, 1);
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", {},
                    &request_buffer, &response_buffer, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = s;
                      done = true;
                      done_cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(
      done_cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response_buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

TEST(ControlApiTest, SocketIsOwnerAndGroupOnlyAndRemovedAtShutdown) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  struct stat info;
  ASSERT_EQ(stat(swiftd.socket_path().c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0660u);
  const std::string fast_path = swiftd.server().fast_path_socket_path();
  ASSERT_EQ(stat(fast_path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0660u);
  swiftd.Stop();
  EXPECT_NE(access(swiftd.socket_path().c_str(), F_OK), 0);
  EXPECT_NE(access(fast_path.c_str(), F_OK), 0);
}

TEST(ControlApiTest, SecondDaemonOnTheSameSocketIsRefused) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  SwiftdOptions options;
  options.socket_path = swiftd.socket_path();
  auto second = SwiftdServer::Start(options);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  // The first one still serves.
  auto client = Client::Connect(OptionsFor(swiftd, /*attach=*/false));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->Ping(1).ok());
}

TEST(ControlApiTest, MissingDaemonIsUnavailableWithAClearMessage) {
  swift::testing::TempDir dir;
  ClientOptions options;
  options.socket_path = dir.path() + "/nobody.sock";
  auto client = Client::Connect(options);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(client.status().message().find("swiftd is not running"),
            absl::string_view::npos)
      << client.status();
}

TEST(ControlApiTest, CallsAfterTheDaemonStopsFailAsUnavailable) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  ClientOptions options = OptionsFor(swiftd, /*attach=*/true);
  options.call_timeout = absl::Seconds(2);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  swiftd.Stop();
  absl::StatusOr<DaemonStatus> status = (*client)->GetStatus();
  EXPECT_TRUE(absl::IsUnavailable(status.status()) ||
              absl::IsDeadlineExceeded(status.status()))
      << status.status();
}

TEST(ControlApiTest, TooLongSocketPathIsInvalidArgument) {
  ClientOptions options;
  options.socket_path = "/tmp/" + std::string(150, 'x');
  EXPECT_EQ(Client::Connect(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swift
