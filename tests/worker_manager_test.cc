// Function registration as a host without RDMA sees it, with the real
// swift_worker: bad requests are refused before anything starts, and a
// worker that cannot build its RDMA resources reports why instead of
// hanging or vanishing. The success path, with a stub worker, is in
// worker_manager_stub_test.cc; tenants in worker_manager_tenant_test.cc.
#include "daemon/functions/worker_manager.h"

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "tests/stub_worker_fixture.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::Absolute;
using ::swift::testing::Anyone;
using ::swift::testing::RunfilePath;
using ::swift::testing::TestSwiftd;

class WorkerManagerTest : public ::testing::Test {
 protected:
  WorkerManager::Options Options() {
    WorkerManager::Options options;
    options.worker_binary = Absolute(RunfilePath("daemon/worker/swift_worker"));
    options.swiftd_socket = swiftd_.socket_path();
    options.startup_timeout = absl::Seconds(30);
    return options;
  }

  v1::RegisterFunctionRequest Function() {
    v1::RegisterFunctionRequest request;
    request.set_name("f");
    request.set_library_path(
        Absolute(RunfilePath("tests/functions/test_function.so")));
    return request;
  }

  TestSwiftd swiftd_;
};

TEST_F(WorkerManagerTest, RefusesBadRegistrationsUpFront) {
  WorkerManager manager(Options());
  v1::RegisterFunctionRequest relative = Function();
  relative.set_library_path("relative/f.so");
  EXPECT_EQ(manager.Register(relative).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::RegisterFunctionRequest missing = Function();
  missing.set_library_path("/nonexistent/f.so");
  EXPECT_EQ(manager.Register(missing).status().code(),
            absl::StatusCode::kNotFound);

  WorkerManager::Options no_worker = Options();
  no_worker.worker_binary = "/nonexistent/swift_worker";
  WorkerManager broken(no_worker);
  absl::Status status = broken.Register(Function()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(status.message(), "--worker_binary")) << status;
}

TEST_F(WorkerManagerTest, WorkerStartupFailureIsReportedWithItsReason) {
  ASSERT_TRUE(swiftd_.ok());
  if (!swiftd_.server().devices().entries().empty()) {
    GTEST_SKIP() << "this host has RDMA devices; the guest tests cover it";
  }
  WorkerManager manager(Options());
  absl::Status status = manager.Register(Function()).status();
  // The worker starts and says why it cannot serve: without uverbs in the
  // kernel libibverbs cannot vouch for copy-on-fork of pinned pages (fork
  // mode is refused), or there is no device to build on.
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "function 'f'")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "copies pinned pages") ||
              absl::StrContains(status.message(), "no RDMA device"))
      << status;
  // Nothing is left registered or running.
  EXPECT_TRUE(manager.List().empty());
}

TEST_F(WorkerManagerTest, AnotherUserIsRefusedASocketOnlyRootReaches) {
  ASSERT_TRUE(swiftd_.ok());
  // TestSwiftd's sockets are 0660 root:root (no --socket_group): a worker
  // as nobody could not connect, so swiftd refuses before spawning it.
  WorkerManager manager(Options());
  v1::RegisterFunctionRequest request = Function();
  request.set_uid(65534);
  absl::Status status = manager.Register(request).status();
  if (geteuid() != 0) {
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
    return;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--socket_group")) << status;
  EXPECT_TRUE(manager.List().empty());
}

TEST_F(WorkerManagerTest, AMemoryLimitTheWorkerCannotStartInIsNamed) {
  ASSERT_TRUE(swiftd_.ok());
  WorkerManager manager(Options());
  v1::RegisterFunctionRequest request = Function();
  // Too little for the worker's binary and shared libraries: it cannot
  // even be loaded.
  request.set_memory_limit_bytes(1 << 20);
  absl::Status status = manager.Register(request).status();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(absl::StrContains(status.message(), "memory_limit_bytes"))
      << status;
  EXPECT_TRUE(manager.List().empty());
}

TEST_F(WorkerManagerTest, InvokingAnUnknownFunctionIsNotFound) {
  WorkerManager manager(Options());
  v1::InvokeRequest request;
  request.set_function("nope");
  EXPECT_EQ(manager.Invoke(request, Anyone()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace swift
