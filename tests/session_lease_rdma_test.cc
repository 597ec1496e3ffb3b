// A Session whose registered buffer is a swiftd lease (issue 11, the cold
// path), on the two hosts of the Soft-RoCE guest: data written by RDMA
// WRITE across the wire lands in the remote session's leased buffer (bytes
// checked on the receiving side, both ways); the lease is in swiftd's
// fast-path listing while the session lives and gone after it ends, and
// after its client process is SIGKILLed; when swiftd refuses (its quota)
// the session falls back to its own memfd, says why, and still carries
// data. rxe cannot import a context: swiftd shares none and sessions open
// their own, saying why.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/fast_path_client.h"
#include "client/hinted_providers.h"
#include "client/shared_context.h"
#include "common/testing/eventually.h"
#include "common/unix_socket.h"
#include "common/verbs/context.h"
#include "common/verbs/port_address.h"
#include "common/verbs/post_and_wait.h"
#include "proto/fast_path.pb.h"
#include "swift/session.h"
#include "tests/two_swiftd_fixture.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;
using ::swift::testing::RunfilePath;
using ::swift::testing::SwiftdHost;
using ::swift::testing::TwoSwiftdTest;
using ::swift::testing::WriteTo;

constexpr int kPeerPort = 17671;
constexpr uint64_t kMiB = 1 << 20;

class SessionLeaseRdmaTest : public TwoSwiftdTest {
 protected:
  SessionLeaseRdmaTest() : TwoSwiftdTest(kPeerPort) {
    // Host B's swiftd leases at most 8 MiB in all and keeps no pools
    // (pooled bytes count against the quota): a larger buffer is refused
    // there, a small one granted.
    b_.options.leases.quotas.bytes_total = 8 * kMiB;
    b_.options.leases.pools.regions_per_tenant = 0;
  }

  std::unique_ptr<Session> Create(const SwiftdHost& host, size_t bytes) {
    SessionOptions options;
    options.socket_path = host.socket();
    options.buffer_bytes = bytes;
    options.pool_low = 1;
    options.pool_high = 2;
    absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(options);
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? *std::move(session) : nullptr;
  }

  // swiftd's fast-path lease listing (what `swiftctl leases` shows).
  static v1::ListLeasesResponse Leases(const SwiftdHost& host) {
    absl::StatusOr<std::unique_ptr<FastPathClient>> client =
        FastPathClient::Connect(FastPathSocketPath(host.socket()),
                                "session_lease_rdma_test-lister");
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return {};
    v1::FastRequest request;
    request.mutable_list_leases();
    absl::StatusOr<v1::FastResponse> response = (*client)->Call(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->list_leases() : v1::ListLeasesResponse();
  }

  static bool Holds(const SwiftdHost& host, uint64_t lease_id, int64_t pid) {
    const v1::ListLeasesResponse listed = Leases(host);
    for (const v1::LeaseInfo& lease : listed.leases()) {
      if (lease.lease_id() == lease_id && lease.holder_pid() == pid) {
        return true;
      }
    }
    return false;
  }
};

std::string At(const Connection& connection, size_t offset, size_t length) {
  return std::string(reinterpret_cast<const char*>(connection.buffer()) + offset,
                     length);
}

// The hello offers each swiftd's port address from its device cache
// (issue 11: a cold start's port step without a query), and it is what
// the device itself answers; sessions take it when the hello came first,
// and those connections carry data (the tests above; each session says
// where its port address came from).
TEST_F(SessionLeaseRdmaTest, TheHellosPortAddressIsWhatTheDeviceAnswers) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  for (const SwiftdHost* host : {&a_, &b_}) {
    absl::StatusOr<std::unique_ptr<FastPathClient>> client =
        FastPathClient::Connect(FastPathSocketPath(host->socket()),
                                "session_lease_rdma_test-hello");
    ASSERT_TRUE(client.ok()) << client.status();
    const v1::FastHelloReply& hello = (*client)->hello();
    ASSERT_TRUE(hello.has_port_address()) << hello.ShortDebugString();
    absl::StatusOr<std::shared_ptr<verbs::Context>> context =
        verbs::Context::OpenByName(hello.device());
    ASSERT_TRUE(context.ok()) << context.status();
    absl::StatusOr<verbs::PortAddress> queried =
        verbs::QueryPortAddress(**context, 1);
    ASSERT_TRUE(queried.ok()) << queried.status();
    const v1::CachedPortAddress& cached = hello.port_address();
    EXPECT_EQ(cached.port_num(), queried->port_num);
    EXPECT_EQ(cached.link_layer(), queried->link_layer);
    EXPECT_EQ(cached.lid(), queried->lid);
    EXPECT_EQ(cached.active_mtu(), static_cast<uint32_t>(queried->active_mtu));
    EXPECT_EQ(cached.gid_index(), queried->gid_index);
    EXPECT_EQ(cached.gid(),
              std::string(reinterpret_cast<const char*>(queried->gid.raw),
                          sizeof(queried->gid.raw)));
  }
}

// Context import (issue 11) on rxe, whose provider cannot import: swiftd
// lists no device to share (hints file), refuses share_context with the
// probe's reason, keeps no context ready, and a session opens its own
// device and says why (the sessions of the other tests carry data so).
TEST_F(SessionLeaseRdmaTest, OnRxeNoContextIsSharedAndSessionsOpenTheirOwn) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  const SessionHints hints = ReadSessionHints(a_.socket());
  EXPECT_EQ(hints.unread_because, "");
  EXPECT_TRUE(hints.shareable_devices.empty());

  absl::StatusOr<std::unique_ptr<FastPathClient>> client =
      FastPathClient::Connect(FastPathSocketPath(a_.socket()),
                              "session_lease_rdma_test-share");
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string device = (*client)->hello().device();
  absl::StatusOr<SharedContextGrant> grant =
      RequestSharedContext(client->get(), device);
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(grant.status().message(), "cannot import"))
      << grant.status();
  EXPECT_TRUE(
      absl::StrContains(grant.status().message(), "Operation not supported"))
      << grant.status();
  EXPECT_EQ(
      RequestSharedContext(client->get(), "no_such_device0").status().code(),
      absl::StatusCode::kNotFound);

  auto session = Create(a_, 64 * 1024);
  ASSERT_TRUE(session);
  const StartSteps& steps = session->start_steps();
  EXPECT_FALSE(steps.context_imported);
  EXPECT_TRUE(
      absl::StrContains(steps.context_not_imported_because, "cannot import"))
      << steps.context_not_imported_because;
  EXPECT_EQ(a_.swiftd->contexts()->held_count(), 0);
  EXPECT_EQ(a_.swiftd->contexts()->pooled_count(), 0);
}

TEST_F(SessionLeaseRdmaTest, LeasedBuffersCarryDataAndTheLeasesEndWithThem) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  // 1 MiB: over lease_buffer_min_bytes, under B's quota.
  auto server = Create(a_, kMiB);
  auto client = Create(b_, kMiB);
  ASSERT_TRUE(server && client);
  const StartSteps& on_a = server->start_steps();
  const StartSteps& on_b = client->start_steps();
  ASSERT_TRUE(on_a.buffer_leased) << on_a.buffer_not_leased_because;
  ASSERT_TRUE(on_b.buffer_leased) << on_b.buffer_not_leased_because;
  EXPECT_EQ(on_a.buffer_not_leased_because, "");
  // Each swiftd lists the lease, held by this process.
  EXPECT_TRUE(Holds(a_, on_a.buffer_lease_id, getpid()));
  EXPECT_TRUE(Holds(b_, on_b.buffer_lease_id, getpid()));
  std::printf(
      "leased buffers: A lease %llu, B lease %llu; memory step "
      "%.0f/%.0f us, reg_mr %.0f/%.0f us; port address from "
      "swiftd's hello: %s/%s\n",
      static_cast<unsigned long long>(on_a.buffer_lease_id),
      static_cast<unsigned long long>(on_b.buffer_lease_id), on_a.memory_us,
      on_b.memory_us, on_a.reg_mr_us, on_b.reg_mr_us,
      on_a.port_from_swiftd ? "yes" : "no",
      on_b.port_from_swiftd ? "yes" : "no");

  auto listener = server->Listen("leased", 1);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto connection = client->Connect(a_.peer_address(), "leased");
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto accepted = (*listener)->Accept(absl::Seconds(10));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  // The buffers the connections use are the leases (zeroed when leased).
  EXPECT_EQ(At(**accepted, 4096, 8), std::string(8, '\0'));

  const std::string to_a = "B's leased buffer -> A's leased buffer";
  ASSERT_TRUE(WriteTo(**connection, to_a, 4096).ok());
  EXPECT_EQ(At(**accepted, 4096, to_a.size()), to_a);
  const std::string to_b = "A's leased buffer -> B's leased buffer";
  ASSERT_TRUE(WriteTo(**accepted, to_b, 30000).ok());
  EXPECT_EQ(At(**connection, 30000, to_b.size()), to_b);

  connection->reset();
  accepted->reset();
  listener->reset();
  server.reset();
  client.reset();
  EXPECT_EQ(Leases(a_).total_leases(), 0u);
  EXPECT_EQ(Leases(b_).total_leases(), 0u);
  EXPECT_EQ(a_.swiftd->leases()->lease_count(), 0);
  EXPECT_EQ(b_.swiftd->leases()->lease_count(), 0);
}

TEST_F(SessionLeaseRdmaTest, AKilledClientsLeaseIsReclaimed) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const std::string holder = RunfilePath("tests/session_lease_holder");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(out[1], 1);
    execl(holder.c_str(), holder.c_str(), a_.socket().c_str(), "4194304",
          nullptr);
    _exit(127);
  }
  close(out[1]);
  char line[128] = {};
  const ssize_t got = read(out[0], line, sizeof(line) - 1);
  close(out[0]);
  ASSERT_GT(got, 0) << "the holder printed nothing";
  int leased = 0;
  unsigned long long lease_id = 0;
  ASSERT_EQ(std::sscanf(line, "ready %d %llu", &leased, &lease_id), 2) << line;
  EXPECT_EQ(leased, 1) << line;
  EXPECT_TRUE(Holds(a_, lease_id, child)) << line;
  EXPECT_EQ(Leases(a_).total_bytes(), 4 * kMiB);

  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(Eventually([&] { return Leases(a_).total_leases() == 0; }));
  EXPECT_EQ(a_.swiftd->leases()->leased_bytes(), 0u);
}

TEST_F(SessionLeaseRdmaTest, ARefusedLeaseFallsBackAndStillCarriesData) {
  ASSERT_TRUE(a_.swiftd && b_.swiftd);
  auto server = Create(a_, 64 * 1024);
  auto client = Create(b_, 16 * kMiB);  // Over B's 8 MiB in all.
  ASSERT_TRUE(server && client);
  const StartSteps& on_b = client->start_steps();
  EXPECT_FALSE(on_b.buffer_leased);
  EXPECT_EQ(on_b.buffer_lease_id, 0u);
  EXPECT_TRUE(absl::StrContains(on_b.buffer_not_leased_because,
                                "--max_lease_bytes_total"))
      << on_b.buffer_not_leased_because;
  EXPECT_EQ(b_.swiftd->leases()->lease_count(), 0);

  auto listener = server->Listen("fallback", 1);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto connection = client->Connect(a_.peer_address(), "fallback");
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto accepted = (*listener)->Accept(absl::Seconds(10));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_GE((*connection)->buffer_size(), 16 * kMiB);
  const std::string to_b = "into B's own memfd, near its end";
  ASSERT_TRUE(WriteTo(**accepted, to_b, 16 * kMiB - 4096).ok());
  EXPECT_EQ(At(**connection, 16 * kMiB - 4096, to_b.size()), to_b);
}

}  // namespace
}  // namespace swift
