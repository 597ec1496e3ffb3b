// A function's worker as a tenant, on two "hosts" of the Soft-RoCE guest
// (see FunctionRdmaTest): registered with uid 65534 (nobody), the worker
// and its forked instances run as nobody with nobody's group and only the
// group of swiftd's sockets (none of root's), with an unlimited memlock
// limit and the address space limit asked for, and their RDMA still works.
// A memory limit the worker cannot start in fails the registration, naming
// memory_limit_bytes; an allocation past the limit fails the invocation
// and leaves the worker serving.
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/testing/sanitizer_build.h"
#include "tests/function_rdma_fixture.h"

namespace swift {
namespace {

using ::swift::testing::FunctionRdmaTest;

constexpr int kPeerPort = 17491;
constexpr uid_t kNobody = 65534;
// swiftd B's socket group in these tests: not nobody's own group and not
// root's, so the worker must get it as its one supplementary group.
constexpr char kSocketGroup[] = "users";
// The worker's address space limit: room for its libraries, threads,
// device mappings and buffer, and far below what "alloc" asks past it.
constexpr uint64_t kMemoryLimit = uint64_t{1} << 30;

// The value of `field` ("Uid", "Groups", ...) in /proc/PID/status, split
// at whitespace; empty when the process or field is missing.
std::vector<std::string> ProcStatus(int64_t pid, const std::string& field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view value = line;
    if (absl::ConsumePrefix(&value, field + ":")) {
      return absl::StrSplit(value, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    }
  }
  return {};
}

// The soft and hard value of the limit named `name` ("Max address space")
// in /proc/PID/limits; empty when missing.
std::vector<std::string> ProcLimit(int64_t pid, const std::string& name) {
  std::ifstream limits(absl::StrCat("/proc/", pid, "/limits"));
  std::string line;
  while (std::getline(limits, line)) {
    absl::string_view value = line;
    if (absl::ConsumePrefix(&value, name)) {
      std::vector<std::string> fields =
          absl::StrSplit(value, ' ', absl::SkipEmpty());
      fields.resize(2);  // Drops the unit.
      return fields;
    }
  }
  return {};
}

// The inodes of the Unix sockets bound under `dir`, from /proc/net/unix:
// swiftd's listening sockets and the connections they accepted (a
// client's end has no path).
std::set<std::string> SocketInodesUnder(const std::string& dir) {
  std::set<std::string> inodes;
  std::ifstream table("/proc/net/unix");
  std::string line;
  while (std::getline(table, line)) {
    // Num RefCount Protocol Flags Type St Inode Path
    std::vector<std::string> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() == 8 && absl::StartsWith(fields[7], dir + "/")) {
      inodes.insert(fields[6]);
    }
  }
  return inodes;
}

// The inodes of the sockets `pid` has open.
std::set<std::string> SocketInodesOf(int64_t pid) {
  std::set<std::string> inodes;
  const std::string fds = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(fds.c_str());
  if (dir == nullptr) {
    return inodes;
  }
  while (dirent* entry = readdir(dir)) {
    char target[256] = {};
    const std::string link = fds + "/" + entry->d_name;
    if (readlink(link.c_str(), target, sizeof(target) - 1) > 0) {
      absl::string_view inode = target;
      if (absl::ConsumePrefix(&inode, "socket:[") &&
          absl::ConsumeSuffix(&inode, "]")) {
        inodes.emplace(inode);
      }
    }
  }
  closedir(dir);
  return inodes;
}

// Copies `from` to `to` with `mode`.
absl::Status CopyFile(const std::string& from, const std::string& to,
                      mode_t mode) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary);
  out << in.rdbuf();
  out.close();
  if (!in || !out) {
    return absl::InternalError(absl::StrCat("copying ", from, " to ", to));
  }
  if (chmod(to.c_str(), mode) != 0) {
    return absl::InternalError(absl::StrCat("chmod ", to));
  }
  return absl::OkStatus();
}

class TenantRdmaTest : public FunctionRdmaTest {
 protected:
  TenantRdmaTest() : FunctionRdmaTest(kPeerPort) {
    // A worker that is not root reaches swiftd B's sockets through their
    // group, which swiftd adds to the worker's groups.
    b_.options.socket_group = kSocketGroup;
  }

  void SetUp() override {
    // The test directory (mkdtemp: 0700) holds swiftd's sockets: nobody
    // must be able to reach them.
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    // Bazel's outputs live under root's home, which is 0700: user nobody
    // could neither run the worker nor load the function from there (an
    // installed swiftd has them in /usr/local). Copies anyone may read.
    const std::string worker = dir_.path() + "/swift_worker";
    const std::string function = dir_.path() + "/test_function.so";
    absl::Status copied = CopyFile(b_.options.worker_binary, worker, 0755);
    ASSERT_TRUE(copied.ok()) << copied;
    copied = CopyFile(function_library_, function, 0644);
    ASSERT_TRUE(copied.ok()) << copied;
    b_.options.worker_binary = worker;
    function_library_ = function;
    FunctionRdmaTest::SetUp();
  }

  // The test function as `name`, run as nobody within kMemoryLimit (with
  // no limit in an ASan build: see sanitizer_build.h).
  v1::RegisterFunctionRequest TenantFunction(const std::string& name) const {
    v1::RegisterFunctionRequest request = TestFunction(name);
    request.set_uid(kNobody);
    if (!testing::kAddressSanitizerBuild) {
      request.set_memory_limit_bytes(kMemoryLimit);
    }
    return request;
  }

  // The worker pid ListWorkers reports for `function`, 0 when none.
  int64_t ListedWorkerPid(const std::string& function) {
    absl::StatusOr<v1::ListWorkersResponse> workers = client_->ListWorkers();
    EXPECT_TRUE(workers.ok()) << workers.status();
    if (!workers.ok()) {
      return 0;
    }
    for (const v1::WorkerInfo& worker : workers->workers()) {
      if (worker.function() == function && worker.state() == "ready") {
        return worker.worker_pid();
      }
    }
    return 0;
  }

  // Expects `pid` to run as nobody, in nobody's group plus exactly the
  // socket group.
  void ExpectRunsAsNobody(int64_t pid) {
    passwd* nobody = getpwuid(kNobody);
    ASSERT_NE(nobody, nullptr) << "no user " << kNobody << " in the guest";
    group* socket_group = getgrnam(kSocketGroup);
    ASSERT_NE(socket_group, nullptr);
    const std::string uid = std::to_string(kNobody);
    const std::string gid = std::to_string(nobody->pw_gid);
    // Real, effective, saved and file system ids.
    EXPECT_EQ(ProcStatus(pid, "Uid"),
              std::vector<std::string>({uid, uid, uid, uid}));
    EXPECT_EQ(ProcStatus(pid, "Gid"),
              std::vector<std::string>({gid, gid, gid, gid}));
    // None of root's groups (swiftd's), only what reaches the sockets.
    EXPECT_EQ(ProcStatus(pid, "Groups"),
              std::vector<std::string>({std::to_string(socket_group->gr_gid)}));
  }
};

TEST_F(TenantRdmaTest, TheWorkerRunsAsTheTenantWithItsLimits) {
  auto registered = client_->RegisterFunction(TenantFunction("tenant"));
  ASSERT_TRUE(registered.ok()) << registered.status();
  const int64_t worker_pid = ListedWorkerPid("tenant");
  ASSERT_NE(worker_pid, 0);
  EXPECT_EQ(worker_pid, registered->worker_pid());

  ExpectRunsAsNobody(worker_pid);
  // Nor does it inherit swiftd's sockets (it could accept swiftd's clients
  // or speak on their connections): it has its own connections only.
  const std::set<std::string> swiftds = SocketInodesUnder(dir_.path());
  // The check sees swiftd's sockets where they are: in this process.
  const std::set<std::string> ours = SocketInodesOf(getpid());
  ASSERT_TRUE(std::any_of(
      swiftds.begin(), swiftds.end(),
      [&](const std::string& inode) { return ours.count(inode) > 0; }));
  for (const std::string& inode : SocketInodesOf(worker_pid)) {
    EXPECT_EQ(swiftds.count(inode), 0u) << "swiftd's socket " << inode;
  }
  // Registered memory needs the memlock limit lifted; the address space is
  // what was asked.
  EXPECT_EQ(ProcLimit(worker_pid, "Max locked memory"),
            std::vector<std::string>({"unlimited", "unlimited"}));
  const std::string limit = testing::kAddressSanitizerBuild
                                ? "unlimited"
                                : std::to_string(kMemoryLimit);
  EXPECT_EQ(ProcLimit(worker_pid, "Max address space"),
            std::vector<std::string>({limit, limit}));
  std::vector<std::string> peak = ProcStatus(worker_pid, "VmPeak");
  RecordProperty("worker_vm_peak_kib", peak.empty() ? "?" : peak.front());

  // A forked instance, still nobody, writes into the sink on host A.
  auto invoked =
      InvokeFunction("tenant", "write:from-nobody", v1::InvokeRequest::FORK);
  ASSERT_TRUE(invoked.ok()) << invoked.status();
  EXPECT_EQ(invoked->result(), "wrote 11");
  EXPECT_EQ(invoked->served_by(), v1::InvokeRequest::FORK);
  EXPECT_NE(invoked->instance_pid(), worker_pid);
  EXPECT_EQ(SinkBytes(11), "from-nobody");
  // The instance stays, idle, for the next invocation.
  ExpectRunsAsNobody(invoked->instance_pid());
  EXPECT_EQ(ProcLimit(invoked->instance_pid(), "Max address space"),
            std::vector<std::string>({limit, limit}));
}

TEST_F(TenantRdmaTest, AMemoryLimitTheWorkerCannotStartInFailsRegistration) {
  v1::RegisterFunctionRequest request = TenantFunction("cramped");
  request.set_memory_limit_bytes(1 << 20);
  auto registered = client_->RegisterFunction(request);
  ASSERT_FALSE(registered.ok());
  EXPECT_TRUE(
      absl::StrContains(registered.status().message(), "memory_limit_bytes"))
      << registered.status();
  EXPECT_TRUE(absl::StrContains(registered.status().message(), "cramped"))
      << registered.status();
  EXPECT_EQ(ListedWorkerPid("cramped"), 0);
}

// Not in an ASan build: an ASan worker cannot start under an RLIMIT_AS
// (its shadow needs ~15 TB of address space); the plain guest run covers
// memory limits.
#if !SWIFT_ADDRESS_SANITIZER_BUILD
TEST_F(TenantRdmaTest, AnAllocationPastTheLimitFailsAndTheWorkerGoesOn) {
  auto registered = client_->RegisterFunction(TenantFunction("greedy"));
  ASSERT_TRUE(registered.ok()) << registered.status();
  const int64_t worker_pid = registered->worker_pid();

  auto greedy =
      InvokeFunction("greedy", absl::StrCat("alloc:", 2 * kMemoryLimit),
                     v1::InvokeRequest::FORK);
  EXPECT_EQ(greedy.status().code(), absl::StatusCode::kAborted)
      << greedy.status();
  // The function's code for a refused allocation (ENOMEM).
  EXPECT_TRUE(absl::StrContains(greedy.status().message(), "returned 12"))
      << greedy.status();
  // And its own words: a failing function's result is the error's text.
  EXPECT_TRUE(
      absl::StrContains(greedy.status().message(), "out of memory: malloc("))
      << greedy.status();

  // Within the limit it may allocate; and the worker serves on, RDMA too.
  auto modest =
      InvokeFunction("greedy", "alloc:67108864", v1::InvokeRequest::FORK);
  ASSERT_TRUE(modest.ok()) << modest.status();
  EXPECT_EQ(modest->result(), "allocated 67108864");
  auto alive =
      InvokeFunction("greedy", "write:still-serving", v1::InvokeRequest::FORK);
  ASSERT_TRUE(alive.ok()) << alive.status();
  EXPECT_EQ(SinkBytes(13), "still-serving");
  EXPECT_EQ(kill(static_cast<pid_t>(worker_pid), 0), 0) << "worker died";
  EXPECT_EQ(ListedWorkerPid("greedy"), worker_pid);
}
#endif  // !SWIFT_ADDRESS_SANITIZER_BUILD

}  // namespace
}  // namespace swift
