// Memory leases between tenants (issue 11): "nobody" (uid 65534) cannot
// see or release root's leases, sees its own, and meets its per-tenant
// quota (root is exempt); `swiftctl leases` and `swiftctl clients` run as
// nobody show nobody's rows only.
//
// Nobody's calls come from a thread of this test that dropped to uid 65534
// with the raw setresuid system call, which changes that thread only: the
// kernel records the connecting thread's credentials (SO_PEERCRED), as in
// tenant_isolation_test. Needs root; no sandbox (tests/BUILD).
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/fast_path_client.h"
#include "client/lease.h"
#include "common/unix_socket.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::AsUser;
using ::swift::testing::CommandResult;
using ::swift::testing::CopyRunfileForAnyone;
using ::swift::testing::RunCommand;
using ::swift::testing::TempDir;

constexpr uid_t kNobody = 65534;

bool BecomeOnThisThread(uid_t uid) {
  return syscall(SYS_setgroups, 0, nullptr) == 0 &&
         syscall(SYS_setresgid, uid, uid, uid) == 0 &&
         syscall(SYS_setresuid, uid, uid, uid) == 0;
}

class LeaseIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root to become another user";
    }
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    SwiftdOptions options;
    options.socket_path = dir_.path() + "/swiftd.sock";
    options.socket_mode = 0666;
    options.state_dir = "";
    options.leases.quotas.leases_per_tenant = 2;
    options.leases.pools.region_bytes = 1 << 20;
    absl::StatusOr<std::unique_ptr<SwiftdServer>> server =
        SwiftdServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    fast_path_ = FastPathSocketPath(options.socket_path);
  }

  std::unique_ptr<FastPathClient> Connect(const std::string& name) {
    absl::StatusOr<std::unique_ptr<FastPathClient>> client =
        FastPathClient::Connect(fast_path_, name);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // swiftctl run as nobody (a copy: Bazel's tree is closed to others).
  CommandResult SwiftctlAsNobody(const std::string& arguments) {
    const std::string swiftctl =
        CopyRunfileForAnyone("tools/swiftctl/swiftctl", dir_.path());
    EXPECT_FALSE(swiftctl.empty());
    return RunCommand(absl::StrCat(AsUser(kNobody), swiftctl, " --socket=",
                                   dir_.path(), "/swiftd.sock ", arguments));
  }

  TempDir dir_;
  std::unique_ptr<SwiftdServer> server_;
  std::string fast_path_;
};

TEST_F(LeaseIsolationTest, NobodyNeitherSeesNorReleasesRootsLeases) {
  std::unique_ptr<FastPathClient> root = Connect("root_app");
  ASSERT_NE(root, nullptr);
  absl::StatusOr<LeasedMemory> root_lease =
      LeasedMemory::Take(root.get(), 8192);
  ASSERT_TRUE(root_lease.ok()) << root_lease.status();
  const uint64_t root_id = root_lease->lease_id();

  v1::ListLeasesResponse nobody_view;
  v1::ListClientsResponse nobody_clients;
  absl::Status release_status;
  absl::Status third_status;
  int nobody_leases = 0;
  std::thread nobody([&] {
    ASSERT_TRUE(BecomeOnThisThread(kNobody));
    std::unique_ptr<FastPathClient> client = Connect("nobody_app");
    ASSERT_NE(client, nullptr);
    v1::FastRequest release;
    release.mutable_release_lease()->set_lease_id(root_id);
    release_status = client->Call(release).status();
    absl::StatusOr<LeasedMemory> first = LeasedMemory::Take(client.get(), 4096);
    absl::StatusOr<LeasedMemory> second =
        LeasedMemory::Take(client.get(), 4096);
    nobody_leases = first.ok() + second.ok();
    third_status = LeasedMemory::Take(client.get(), 4096).status();
    v1::FastRequest list;
    list.mutable_list_leases();
    absl::StatusOr<v1::FastResponse> leases = client->Call(list);
    ASSERT_TRUE(leases.ok()) << leases.status();
    nobody_view = leases->list_leases();
    v1::FastRequest clients;
    clients.mutable_list_clients();
    absl::StatusOr<v1::FastResponse> attached = client->Call(clients);
    ASSERT_TRUE(attached.ok()) << attached.status();
    nobody_clients = attached->list_clients();
  });
  nobody.join();

  EXPECT_EQ(release_status.code(), absl::StatusCode::kNotFound)
      << release_status;
  EXPECT_EQ(nobody_leases, 2);
  EXPECT_EQ(third_status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      absl::StrContains(third_status.message(), "--max_leases_per_tenant"))
      << third_status;
  ASSERT_EQ(nobody_view.leases_size(), 2);
  EXPECT_EQ(nobody_view.total_leases(), 2u);
  for (const v1::LeaseInfo& lease : nobody_view.leases()) {
    EXPECT_EQ(lease.tenant_uid(), kNobody);
    EXPECT_NE(lease.lease_id(), root_id);
  }
  for (const v1::LeasePoolInfo& pool : nobody_view.pools()) {
    EXPECT_EQ(pool.tenant_uid(), kNobody);
  }
  ASSERT_GE(nobody_clients.clients_size(), 1);
  for (const v1::AttachedClient& client : nobody_clients.clients()) {
    EXPECT_EQ(client.uid(), kNobody);
    EXPECT_EQ(client.name(), "nobody_app");
  }

  // Nobody's client is gone (its thread ended): its leases with it; root's
  // stays, and root is not held to the per-tenant quota.
  EXPECT_EQ(server_->leases()->lease_count(), 1);
  EXPECT_EQ(server_->leases()->quotas().UsageOf(kNobody).leases, 0);
  std::vector<LeasedMemory> more;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<LeasedMemory> lease = LeasedMemory::Take(root.get(), 4096);
    ASSERT_TRUE(lease.ok()) << lease.status();
    more.push_back(*std::move(lease));
  }

  const CommandResult leases = SwiftctlAsNobody("leases");
  EXPECT_EQ(leases.exit_code, 0) << leases.err;
  EXPECT_TRUE(absl::StrContains(leases.out, "No memory leases.")) << leases.out;
  EXPECT_TRUE(absl::StrContains(leases.out, "total: 0 lease(s)")) << leases.out;
  EXPECT_FALSE(absl::StrContains(leases.out, "root_app")) << leases.out;
  const CommandResult clients = SwiftctlAsNobody("--json clients");
  EXPECT_EQ(clients.exit_code, 0) << clients.err;
  EXPECT_FALSE(absl::StrContains(clients.out, "root_app")) << clients.out;
  EXPECT_TRUE(absl::StrContains(clients.out, "\"uid\":65534")) << clients.out;
}

}  // namespace
}  // namespace swift
