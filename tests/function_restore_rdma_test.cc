// A registered function survives a restart of its swiftd, on the two
// "hosts" of the Soft-RoCE guest: the test function is registered with
// swiftd B (rxeB) with a sink service behind swiftd A (rxeA) as its peer;
// swiftd B restarts on the same state directory, restores the function in
// the background, and a FORK invocation's WRITE lands in the sink again.
#include <sys/stat.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/testing/rdma_test_env.h"
#include "daemon/functions/function_store.h"
#include "tests/function_rdma_fixture.h"

namespace swift {
namespace {

using ::swift::testing::FunctionRdmaTest;

constexpr int kPeerPort = 17501;

class FunctionRestoreRdmaTest : public FunctionRdmaTest {
 protected:
  FunctionRestoreRdmaTest() : FunctionRdmaTest(kPeerPort) {
    b_.options.state_dir = dir_.path() + "/b-state";
  }

  // Stops swiftd B (and so its workers) and starts it again with the same
  // options, as `systemctl restart swiftd` does; reconnects the client.
  void RestartB() {
    client_.reset();
    b_.swiftd->Shutdown(absl::Seconds(1));
    b_.swiftd.reset();
    absl::StatusOr<std::unique_ptr<SwiftdServer>> swiftd =
        SwiftdServer::Start(b_.options);
    ASSERT_TRUE(swiftd.ok()) << swiftd.status();
    b_.swiftd = *std::move(swiftd);
    ClientOptions options;
    options.socket_path = b_.socket();
    options.attach = false;
    absl::StatusOr<std::unique_ptr<ControlClient>> client =
        ControlClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  // The state of `function` in ListWorkers ("" when not listed).
  std::string StateOf(const std::string& function) {
    absl::StatusOr<v1::ListWorkersResponse> workers = client_->ListWorkers();
    EXPECT_TRUE(workers.ok()) << workers.status();
    if (workers.ok()) {
      for (const v1::WorkerInfo& info : workers->workers()) {
        if (info.function() == function) {
          return info.state();
        }
      }
    }
    return "";
  }

  bool Stored(const std::string& function) {
    struct stat info;
    return stat((b_.options.state_dir + "/" + FunctionStore::FileName(function))
                    .c_str(),
                &info) == 0;
  }
};

TEST_F(FunctionRestoreRdmaTest, ARegisteredFunctionComesBackAfterARestart) {
  auto registered = client_->RegisterFunction(TestFunction("f"));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_TRUE(Stored("f"));
  auto before =
      InvokeFunction("f", "write:before-restart", v1::InvokeRequest::FORK);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(SinkBytes(14), "before-restart");

  RestartB();
  ASSERT_FALSE(HasFatalFailure());
  // Restored in the background: swiftd B serves before the worker is up.
  std::string state = StateOf("f");
  EXPECT_NE(state, "") << "the function was not restored";
  const absl::Time deadline = absl::Now() + absl::Seconds(180);
  while (state != "ready" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    state = StateOf("f");
  }
  ASSERT_EQ(state, "ready");

  auto after =
      InvokeFunction("f", "write:after-restart", v1::InvokeRequest::FORK);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->result(), "wrote 13");
  EXPECT_EQ(after->served_by(), v1::InvokeRequest::FORK);
  EXPECT_EQ(SinkBytes(13), "after-restart");

  // It is registered as before: the name is taken, unregistering works
  // and deletes the stored registration.
  EXPECT_EQ(client_->RegisterFunction(TestFunction("f")).status().code(),
            absl::StatusCode::kAlreadyExists);
  auto unregistered = client_->UnregisterFunction("f");
  ASSERT_TRUE(unregistered.ok()) << unregistered.status();
  EXPECT_NE(unregistered->worker_pid(), registered->worker_pid());
  EXPECT_FALSE(Stored("f"));

  // And after another restart it stays gone.
  RestartB();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(StateOf("f"), "");
}

// The guest sees the host's file system read-only (like a read-only root
// on a real host): a state directory there must be refused when swiftd
// opens it, not fail every registration later.
TEST(FunctionStoreReadOnlyTest, AStateDirectoryOnAReadOnlyFileSystemIsRefused) {
  if (::swift::testing::EnvOr("RXE_HOSTS", "").empty()) {
    GTEST_SKIP() << "needs the Soft-RoCE guest's read-only root";
  }
  absl::StatusOr<std::unique_ptr<FunctionStore>> store =
      FunctionStore::Open("/root");
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(
      absl::StrContains(store.status().message(), "cannot write into /root"))
      << store.status();
}

}  // namespace
}  // namespace swift
