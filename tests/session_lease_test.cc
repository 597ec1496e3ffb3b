// A Session's buffer from a swiftd lease (issue 11), on the host against a
// real swiftd (no device needed): SessionBuffer takes a lease when swiftd
// grants one and gives it back at destruction; when swiftd refuses (a
// quota) or leasing is off it falls back to a memfd of its own and keeps
// the reason; a forked child that destroys its copy does not release the
// parent's lease, and the two share the memory. Session::Create's use of
// it, with data over RDMA, is proven in the guest (session_lease_rdma_test).
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/fast_path_client.h"
#include "client/session_buffer.h"
#include "common/unix_socket.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::TempDir;

constexpr uint64_t kMiB = 1 << 20;

// The /proc/self/maps line of the mapping that holds `address`.
std::string MapsLineOf(const void* address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto where = reinterpret_cast<uintptr_t>(address);
  while (std::getline(maps, line)) {
    uintptr_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) == 2 &&
        where >= start && where < end) {
      return line;
    }
  }
  return "";
}

// Permissions column "rw-s": a shared mapping.
bool IsSharedMapping(const void* address) {
  const std::string line = MapsLineOf(address);
  const size_t space = line.find(' ');
  return space != std::string::npos && line.size() > space + 4 &&
         line[space + 4] == 's';
}

class SessionLeaseTest : public ::testing::Test {
 protected:
  void StartSwiftd(uint64_t bytes_total = 256 * kMiB) {
    SwiftdOptions options;
    options.socket_path = dir_.path() + "/swiftd.sock";
    options.state_dir = "";
    options.leases.pools.region_bytes = 4 * kMiB;
    options.leases.pools.regions_per_tenant = 1;
    options.leases.quotas.bytes_total = bytes_total;
    absl::StatusOr<std::unique_ptr<SwiftdServer>> server =
        SwiftdServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    absl::StatusOr<std::unique_ptr<FastPathClient>> client =
        FastPathClient::Connect(FastPathSocketPath(options.socket_path),
                                "session_lease_test");
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  absl::StatusOr<SessionBuffer> Acquire(size_t bytes, bool lease = true) {
    SessionBuffer::Options options;
    options.bytes = bytes;
    options.lease = lease;
    return SessionBuffer::Acquire(client_.get(), options);
  }

  int LeaseCount() { return server_->leases()->lease_count(); }

  TempDir dir_;
  std::unique_ptr<SwiftdServer> server_;
  std::unique_ptr<FastPathClient> client_;
};

TEST_F(SessionLeaseTest, TakesALeaseAndGivesItBackAtDestruction) {
  StartSwiftd();
  std::optional<SessionBuffer> buffer;
  {
    absl::StatusOr<SessionBuffer> acquired = Acquire(64 * 1024);
    ASSERT_TRUE(acquired.ok()) << acquired.status();
    buffer.emplace(*std::move(acquired));
  }
  ASSERT_TRUE(buffer->leased()) << buffer->not_leased_because();
  EXPECT_NE(buffer->lease_id(), 0u);
  EXPECT_EQ(buffer->not_leased_because(), "");
  EXPECT_GE(buffer->size(), 64u * 1024);
  EXPECT_TRUE(std::all_of(buffer->data(), buffer->data() + buffer->size(),
                          [](uint8_t b) { return b == 0; }));
  std::memset(buffer->data(), 0x5a, buffer->size());
  EXPECT_TRUE(IsSharedMapping(buffer->data())) << MapsLineOf(buffer->data());
  // swiftd holds it for this process, under the id the buffer reports.
  const v1::ListLeasesResponse listed = server_->leases()->List(0);
  ASSERT_EQ(listed.leases_size(), 1);
  EXPECT_EQ(listed.leases(0).lease_id(), buffer->lease_id());
  EXPECT_EQ(listed.leases(0).holder_pid(), getpid());
  EXPECT_EQ(listed.leases(0).holder_name(), "session_lease_test");

  buffer.reset();
  EXPECT_EQ(LeaseCount(), 0);
  EXPECT_EQ(server_->leases()->leased_bytes(), 0u);
}

TEST_F(SessionLeaseTest, AQuotaRefusalFallsBackToItsOwnMemfdAndSaysWhy) {
  StartSwiftd(/*bytes_total=*/1 * kMiB);
  absl::StatusOr<SessionBuffer> buffer = Acquire(4 * kMiB);
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  EXPECT_FALSE(buffer->leased());
  EXPECT_EQ(buffer->lease_id(), 0u);
  EXPECT_TRUE(absl::StrContains(buffer->not_leased_because(),
                                "--max_lease_bytes_total"))
      << buffer->not_leased_because();
  EXPECT_TRUE(
      absl::StrContains(buffer->not_leased_because(), "RESOURCE_EXHAUSTED"))
      << buffer->not_leased_because();
  // Still the memory a Session needs: all of it, zeroed, MAP_SHARED memfd.
  ASSERT_GE(buffer->size(), 4 * kMiB);
  EXPECT_TRUE(std::all_of(buffer->data(), buffer->data() + buffer->size(),
                          [](uint8_t b) { return b == 0; }));
  std::memset(buffer->data(), 0x33, buffer->size());
  EXPECT_TRUE(IsSharedMapping(buffer->data())) << MapsLineOf(buffer->data());
  EXPECT_TRUE(absl::StrContains(MapsLineOf(buffer->data()),
                                "/memfd:swift-session"))
      << MapsLineOf(buffer->data());
  EXPECT_EQ(LeaseCount(), 0);
}

TEST_F(SessionLeaseTest, LeasingOffAsksSwiftdNothing) {
  StartSwiftd();
  absl::StatusOr<SessionBuffer> buffer = Acquire(8192, /*lease=*/false);
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  EXPECT_FALSE(buffer->leased());
  EXPECT_EQ(buffer->not_leased_because(), "lease_buffer is off");
  EXPECT_GE(buffer->size(), 8192u);
  EXPECT_EQ(LeaseCount(), 0);
  // No swiftd at all is fine too when leasing is off.
  SessionBuffer::Options options;
  options.bytes = 100;
  options.lease = false;
  EXPECT_TRUE(SessionBuffer::Acquire(nullptr, options).ok());
  options.bytes = 0;
  EXPECT_EQ(SessionBuffer::Acquire(nullptr, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SessionLeaseTest, ABufferUnderTheMinimumIsNotLeased) {
  StartSwiftd();
  SessionBuffer::Options options;
  options.bytes = 64 * 1024;
  options.lease_min_bytes = 256 * 1024;
  absl::StatusOr<SessionBuffer> small =
      SessionBuffer::Acquire(client_.get(), options);
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_FALSE(small->leased());
  EXPECT_TRUE(
      absl::StrContains(small->not_leased_because(), "lease_buffer_min_bytes"))
      << small->not_leased_because();
  EXPECT_EQ(LeaseCount(), 0);
  options.bytes = 256 * 1024;  // At the minimum: leased.
  absl::StatusOr<SessionBuffer> large =
      SessionBuffer::Acquire(client_.get(), options);
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_TRUE(large->leased()) << large->not_leased_because();
  EXPECT_EQ(LeaseCount(), 1);
}

TEST_F(SessionLeaseTest, ASwiftdThatIsGoneLeavesTheSessionItsOwnMemfd) {
  StartSwiftd();
  server_.reset();
  absl::StatusOr<SessionBuffer> buffer = Acquire(8192);
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  EXPECT_FALSE(buffer->leased());
  EXPECT_TRUE(absl::StartsWith(buffer->not_leased_because(),
                               "swiftd leased no memory: "))
      << buffer->not_leased_because();
}

// A forked child (a worker's instance) shares the leased pages with its
// parent; when it destroys its copy the lease stays the parent's. Before
// the fix the child's destructor released the parent's lease through the
// fast path connection the two share.
TEST_F(SessionLeaseTest, AForkedChildSharesTheLeaseAndNeverReleasesIt) {
  StartSwiftd();
  std::optional<SessionBuffer> buffer;
  {
    absl::StatusOr<SessionBuffer> acquired = Acquire(64 * 1024);
    ASSERT_TRUE(acquired.ok()) << acquired.status();
    buffer.emplace(*std::move(acquired));
  }
  ASSERT_TRUE(buffer->leased()) << buffer->not_leased_because();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::memcpy(buffer->data() + 100, "from the child", 14);
    buffer.reset();  // Unmaps in the child only.
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buffer->data()) + 100, 14),
            "from the child");
  // Give a release the child might have sent time to arrive.
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(LeaseCount(), 1);
  buffer.reset();
  EXPECT_EQ(LeaseCount(), 0);
}

}  // namespace
}  // namespace swift
