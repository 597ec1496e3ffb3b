// Tenants on one swiftd (issue 10, findings 5, 9 and 10), with real
// callers on its sockets: root and "nobody" (uid 65534) each listen on a
// service and hold a brokered connection (swiftd brokers with itself, on
// loopback); nobody can neither close root's connection nor take its
// service's name, and what nobody's swiftctl shows is its own.
//
// Nobody's calls come from a thread of this test that dropped to uid 65534
// with the raw setresuid system call, which changes that thread only (the
// glibc wrapper would change every thread): the kernel records the
// connecting thread's credentials, which is what swiftd reads
// (SO_PEERCRED). Needs root; no sandbox (tests/BUILD).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/seqpacket_socket.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"
#include "tests/free_port.h"
#include "tests/raw_fast_path.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::AsUser;
using ::swift::testing::CommandResult;
using ::swift::testing::CopyRunfileForAnyone;
using ::swift::testing::ListenRaw;
using ::swift::testing::OpenRaw;
using ::swift::testing::RawCall;
using ::swift::testing::RunCommand;
using ::swift::testing::TempDir;

constexpr uid_t kNobody = 65534;

v1::FastRequest ConnectTo(const std::string& service) {
  return testing::RawConnectRequest(service, absl::Seconds(5));
}

// Drops the calling thread (only) to `uid`; false if the kernel refused.
bool BecomeOnThisThread(uid_t uid) {
  return syscall(SYS_setgroups, 0, nullptr) == 0 &&
         syscall(SYS_setresgid, uid, uid, uid) == 0 &&
         syscall(SYS_setresuid, uid, uid, uid) == 0;
}

class TenantIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root to become another user";
    }
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    SwiftdOptions options;
    options.socket_path = dir_.path() + "/swiftd.sock";
    options.socket_mode = 0666;
    options.peer_address =
        absl::StrCat("127.0.0.1:", testing::FreeLoopbackPort());
    // It brokers with itself, by a name: named peers are allowed.
    options.peers = {{"self", options.peer_address}};
    options.insecure_peers = true;
    auto server = SwiftdServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    fast_path_ = server_->fast_path_socket_path();

    // swiftctl as nobody (a copy: Bazel's tree is closed to other users).
    swiftctl_ = CopyRunfileForAnyone("tools/swiftctl/swiftctl", dir_.path());
    ASSERT_FALSE(swiftctl_.empty());

    // Root's service, answering every accept.
    auto channel = OpenRaw(fast_path_, "root-app", v1::FastHello::SERVICE);
    ASSERT_TRUE(channel.ok()) << channel.status();
    root_service_.emplace(*std::move(channel));
    ASSERT_TRUE(ListenRaw(*root_service_, "root-svc", 4).ok());
    acceptor_ = std::thread([this] { AnswerAccepts(); });
  }

  void TearDown() override {
    if (root_service_.has_value()) {
      shutdown(root_service_->fd(), SHUT_RDWR);
    }
    if (acceptor_.joinable()) {
      acceptor_.join();
    }
  }

  void AnswerAccepts() {
    while (true) {
      absl::StatusOr<SeqpacketSocket::Message> message =
          root_service_->Receive();
      v1::ServiceDown down;
      if (!message.ok() || !down.ParseFromString(message->data)) {
        return;
      }
      if (down.has_accept()) {
        v1::ServiceUp up;
        up.mutable_accept_reply()->set_event_id(down.accept().event_id());
        (void)root_service_->Send(up.SerializeAsString());
      }
    }
  }

  CommandResult Swiftctl(const std::string& command, bool as_nobody) {
    return RunCommand(absl::StrCat(as_nobody ? AsUser(kNobody) : std::string(),
                                   swiftctl_, " --socket=", dir_.path(),
                                   "/swiftd.sock ", command));
  }

  TempDir dir_;
  std::unique_ptr<SwiftdServer> server_;
  std::string fast_path_;
  std::string swiftctl_;
  std::optional<SeqpacketSocket> root_service_;
  std::thread acceptor_;
};

TEST_F(TenantIsolationTest, ATenantSeesAndTouchesOnlyItsOwn) {
  // Root's connection, on a connection root keeps open.
  auto root_calls = OpenRaw(fast_path_, "root-client", v1::FastHello::CALLS);
  ASSERT_TRUE(root_calls.ok()) << root_calls.status();
  absl::StatusOr<v1::FastResponse> roots =
      RawCall(*root_calls, ConnectTo("root-svc"));
  ASSERT_TRUE(roots.ok()) << roots.status();
  const uint64_t root_connection = roots->connect().connection_id();

  // Nobody's objects and attacks, from a thread that is nobody.
  std::optional<SeqpacketSocket> nobody_service;
  std::optional<SeqpacketSocket> nobody_calls;
  absl::Status squat, stolen, own_close;
  std::string seen_services, seen_connections;
  v1::ListTenantsResponse seen_tenants;
  std::thread nobody([&] {
    ASSERT_TRUE(BecomeOnThisThread(kNobody));
    auto channel = OpenRaw(fast_path_, "nobody-app", v1::FastHello::SERVICE);
    ASSERT_TRUE(channel.ok()) << channel.status();
    nobody_service.emplace(*std::move(channel));
    ASSERT_TRUE(ListenRaw(*nobody_service, "nobody-svc", 4).ok());
    auto squatter = OpenRaw(fast_path_, "squatter", v1::FastHello::SERVICE);
    ASSERT_TRUE(squatter.ok());
    squat = ListenRaw(*squatter, "root-svc", 4);

    auto calls = OpenRaw(fast_path_, "nobody-client", v1::FastHello::CALLS);
    ASSERT_TRUE(calls.ok()) << calls.status();
    nobody_calls.emplace(*std::move(calls));
    absl::StatusOr<v1::FastResponse> own =
        RawCall(*nobody_calls, ConnectTo("root-svc"));
    ASSERT_TRUE(own.ok()) << own.status();
    v1::FastRequest close;
    close.mutable_close()->set_connection_id(root_connection);
    stolen = RawCall(*nobody_calls, close).status();
    // Its own second connection it may close.
    absl::StatusOr<v1::FastResponse> second =
        RawCall(*nobody_calls, ConnectTo("root-svc"));
    ASSERT_TRUE(second.ok()) << second.status();
    close.mutable_close()->set_connection_id(
        second->connect().connection_id());
    own_close = RawCall(*nobody_calls, close).status();

    v1::FastRequest list;
    list.mutable_list_services();
    auto services = RawCall(*nobody_calls, list);
    ASSERT_TRUE(services.ok()) << services.status();
    seen_services = services->list_services().DebugString();
    list.mutable_list_connections();
    auto connections = RawCall(*nobody_calls, list);
    ASSERT_TRUE(connections.ok()) << connections.status();
    seen_connections = connections->list_connections().DebugString();
    list.mutable_list_tenants();
    auto tenants = RawCall(*nobody_calls, list);
    ASSERT_TRUE(tenants.ok()) << tenants.status();
    seen_tenants = tenants->list_tenants();
  });
  nobody.join();

  // Finding 5: no closing root's connection, no taking its service's name.
  EXPECT_TRUE(absl::IsPermissionDenied(stolen)) << stolen;
  EXPECT_TRUE(absl::IsPermissionDenied(squat)) << squat;
  EXPECT_TRUE(own_close.ok()) << own_close;
  ASSERT_EQ(server_->broker()->Connections().size(), 2u);
  EXPECT_EQ(server_->broker()->Connections()[0].id, root_connection);

  // Finding 10: nobody's listings hold its own objects only...
  EXPECT_TRUE(absl::StrContains(seen_services, "nobody-svc")) << seen_services;
  EXPECT_FALSE(absl::StrContains(seen_services, "root-svc")) << seen_services;
  EXPECT_TRUE(absl::StrContains(seen_connections, "nobody-client"))
      << seen_connections;
  EXPECT_FALSE(absl::StrContains(seen_connections, "root-client"))
      << seen_connections;
  ASSERT_EQ(seen_tenants.tenants_size(), 1) << seen_tenants.DebugString();
  EXPECT_EQ(seen_tenants.tenants(0).uid(), kNobody);
  EXPECT_EQ(seen_tenants.tenants(0).connections(), 1u);
  EXPECT_EQ(seen_tenants.tenants(0).services(), 1u);
  EXPECT_EQ(seen_tenants.tenants(0).pooled_endpoints(), 4u);
  EXPECT_EQ(seen_tenants.peer_entries(), 0u);  // Root's to know.

  // ...and so is what its swiftctl prints; root's shows everyone's.
  const CommandResult services = Swiftctl("services", /*as_nobody=*/true);
  EXPECT_EQ(services.exit_code, 0) << services.err;
  EXPECT_TRUE(absl::StrContains(services.out, "nobody-svc")) << services.out;
  EXPECT_FALSE(absl::StrContains(services.out, "root-svc")) << services.out;
  const CommandResult connections = Swiftctl("connections", true);
  EXPECT_EQ(connections.exit_code, 0) << connections.err;
  EXPECT_TRUE(absl::StrContains(connections.out, "nobody-client"))
      << connections.out;
  EXPECT_FALSE(absl::StrContains(connections.out, "root-client"))
      << connections.out;
  const CommandResult tenants = Swiftctl("tenants", true);
  EXPECT_EQ(tenants.exit_code, 0) << tenants.err;
  EXPECT_TRUE(absl::StrContains(tenants.out, "\n65534 ")) << tenants.out;
  EXPECT_FALSE(absl::StrContains(tenants.out, "\n0 ")) << tenants.out;
  EXPECT_TRUE(absl::StrContains(tenants.out, "1/4096")) << tenants.out;

  const CommandResult all = Swiftctl("connections", /*as_nobody=*/false);
  EXPECT_TRUE(absl::StrContains(all.out, "nobody-client")) << all.out;
  EXPECT_TRUE(absl::StrContains(all.out, "root-client")) << all.out;
  const CommandResult all_services = Swiftctl("services", false);
  EXPECT_TRUE(absl::StrContains(all_services.out, "root-svc"))
      << all_services.out;
  EXPECT_TRUE(absl::StrContains(all_services.out, "nobody-svc"))
      << all_services.out;
  const CommandResult all_tenants = Swiftctl("tenants", false);
  EXPECT_TRUE(absl::StrContains(all_tenants.out, "\n0 ")) << all_tenants.out;
  EXPECT_TRUE(absl::StrContains(all_tenants.out, "\n65534 "))
      << all_tenants.out;

  if (nobody_service.has_value()) {
    shutdown(nobody_service->fd(), SHUT_RDWR);
  }
}

}  // namespace
}  // namespace swift
