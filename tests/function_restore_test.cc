// Registered functions across a restart, as a host without RDMA sees it:
// swiftd starts serving at once with the functions of its state directory
// still being restored, shows each as failed-and-retrying while its worker
// cannot start, refuses to register the name anew, and an unregister ends
// the retries and deletes the stored file. (A restore that succeeds is
// covered on the host by worker_manager_stub_test, with a stub worker, and
// across two hosts by the guest test function_restore_rdma_test.)
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/control/control_client.h"
#include "daemon/functions/function_store.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::Absolute;
using ::swift::testing::CommandResult;
using ::swift::testing::RunCommand;
using ::swift::testing::RunfilePath;
using ::swift::testing::TempDir;

class FunctionRestoreTest : public ::testing::Test {
 protected:
  FunctionRestoreTest()
      : state_dir_(dir_.path() + "/state"),
        socket_(dir_.path() + "/swiftd.sock") {}

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FunctionStore>> store =
        FunctionStore::Open(state_dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Starts swiftd on the state directory; returns how long Start() took.
  absl::Duration StartSwiftd() {
    SwiftdOptions options;
    options.socket_path = socket_;
    options.worker_binary = Absolute(RunfilePath("daemon/worker/swift_worker"));
    options.state_dir = state_dir_;
    const absl::Time start = absl::Now();
    absl::StatusOr<std::unique_ptr<SwiftdServer>> server =
        SwiftdServer::Start(options);
    const absl::Duration took = absl::Now() - start;
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) {
      server_ = *std::move(server);
      ClientOptions client_options;
      client_options.socket_path = socket_;
      client_options.attach = false;
      absl::StatusOr<std::unique_ptr<ControlClient>> client =
          ControlClient::Connect(client_options);
      EXPECT_TRUE(client.ok()) << client.status();
      if (client.ok()) {
        client_ = *std::move(client);
      }
    }
    return took;
  }

  void StopSwiftd() {
    client_.reset();
    server_.reset();
  }

  // The state ListWorkers reports for `name` ("" when not listed).
  std::string StateOf(const std::string& name) {
    absl::StatusOr<v1::ListWorkersResponse> workers = client_->ListWorkers();
    EXPECT_TRUE(workers.ok()) << workers.status();
    if (workers.ok()) {
      for (const v1::WorkerInfo& info : workers->workers()) {
        if (info.function() == name) {
          return info.state();
        }
      }
    }
    return "";
  }

  // Polls StateOf(name) for up to `timeout` until it contains `part`;
  // returns the last state seen.
  std::string AwaitState(const std::string& name, const std::string& part,
                         absl::Duration timeout = absl::Seconds(30)) {
    const absl::Time deadline = absl::Now() + timeout;
    std::string state = StateOf(name);
    while (!absl::StrContains(state, part) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      state = StateOf(name);
    }
    return state;
  }

  bool Stored(const std::string& name) {
    struct stat info;
    return stat((state_dir_ + "/" + FunctionStore::FileName(name)).c_str(),
                &info) == 0;
  }

  v1::RegisterFunctionRequest Function(const std::string& name,
                                       const std::string& library) {
    v1::RegisterFunctionRequest function;
    function.set_name(name);
    function.set_library_path(library);
    return function;
  }

  TempDir dir_;
  const std::string state_dir_;
  const std::string socket_;
  std::unique_ptr<FunctionStore> store_;
  std::unique_ptr<SwiftdServer> server_;
  std::unique_ptr<ControlClient> client_;
};

TEST_F(FunctionRestoreTest,
       AFunctionThatCannotStartIsRetriedUntilUnregistered) {
  ASSERT_TRUE(store_->Save(Function("gone", "/nonexistent/gone.so")).ok());
  // A damaged file beside it is skipped, not fatal.
  {
    std::ofstream damaged(state_dir_ + "/fn-damaged.textproto");
    damaged << "\x01 not a registration {";
  }
  const absl::Duration took = StartSwiftd();
  ASSERT_NE(client_, nullptr);
  // Restoring happens in the background: Start() does not wait for it.
  EXPECT_LT(took, absl::Seconds(5));

  std::string state = AwaitState("gone", "retrying in 1s");
  EXPECT_TRUE(absl::StartsWith(state, "failed: ")) << state;
  EXPECT_TRUE(absl::StrContains(state, "no readable function library"))
      << state;
  // The backoff doubles.
  state = AwaitState("gone", "retrying in 2s", absl::Seconds(10));
  EXPECT_TRUE(absl::StrContains(state, "retrying in 2s")) << state;
  EXPECT_EQ(StateOf("damaged"), "");

  // swiftctl shows the same.
  const CommandResult listed =
      RunCommand(absl::StrCat(RunfilePath("tools/swiftctl/swiftctl"),
                              " --socket=", socket_, " workers"));
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(absl::StrContains(listed.out, "gone")) << listed.out;
  EXPECT_TRUE(absl::StrContains(listed.out, "failed:")) << listed.out;

  // It cannot be invoked until its worker is ready.
  v1::InvokeRequest invoke;
  invoke.set_function("gone");
  absl::Status invoked = client_->Invoke(invoke).status();
  EXPECT_EQ(invoked.code(), absl::StatusCode::kUnavailable) << invoked;
  EXPECT_TRUE(absl::StrContains(invoked.message(), "being restored"))
      << invoked;

  ASSERT_TRUE(Stored("gone"));
  absl::StatusOr<v1::UnregisterFunctionResponse> unregistered =
      client_->UnregisterFunction("gone");
  ASSERT_TRUE(unregistered.ok()) << unregistered.status();
  EXPECT_FALSE(Stored("gone"));
  EXPECT_EQ(StateOf("gone"), "");
  // No retry brings it back, nor does a restart.
  absl::SleepFor(absl::Seconds(3));
  EXPECT_EQ(StateOf("gone"), "");
  StopSwiftd();
  StartSwiftd();
  ASSERT_NE(client_, nullptr);
  EXPECT_EQ(StateOf("gone"), "");
  EXPECT_TRUE(store_->LoadAll().empty());
}

TEST_F(FunctionRestoreTest, RegisteringANameBeingRestoredIsAlreadyExists) {
  const std::string library =
      Absolute(RunfilePath("tests/functions/test_function.so"));
  ASSERT_TRUE(store_->Save(Function("f", "/nonexistent/f.so")).ok());
  StartSwiftd();
  ASSERT_NE(client_, nullptr);
  AwaitState("f", "failed: ");
  absl::Status registered =
      client_->RegisterFunction(Function("f", library)).status();
  EXPECT_EQ(registered.code(), absl::StatusCode::kAlreadyExists) << registered;
  EXPECT_TRUE(absl::StrContains(registered.message(), "being restored"))
      << registered;
  // The stored registration is untouched.
  std::vector<v1::RegisterFunctionRequest> stored = store_->LoadAll();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].library_path(), "/nonexistent/f.so");
}

TEST_F(FunctionRestoreTest, AWorkerWithoutRdmaIsRetried) {
  {
    testing::TestSwiftd probe;
    ASSERT_TRUE(probe.ok());
    if (!probe.server().devices().entries().empty()) {
      GTEST_SKIP() << "this host has RDMA devices; the guest tests cover it";
    }
  }
  v1::RegisterFunctionRequest function =
      Function("f", Absolute(RunfilePath("tests/functions/test_function.so")));
  function.set_uid(geteuid());
  function.set_gid(getegid());
  ASSERT_TRUE(store_->Save(function).ok());
  StartSwiftd();
  ASSERT_NE(client_, nullptr);
  // The worker itself starts and says why it cannot serve (see
  // worker_manager_stub_test): swiftd keeps retrying.
  const std::string state = AwaitState("f", "retrying in");
  EXPECT_TRUE(absl::StartsWith(state, "failed: ")) << state;
  EXPECT_TRUE(absl::StrContains(state, "copies pinned pages") ||
              absl::StrContains(state, "no RDMA device"))
      << state;

  // Unregistering stops the retries and deletes the file.
  ASSERT_TRUE(client_->UnregisterFunction("f").ok());
  EXPECT_FALSE(Stored("f"));
  EXPECT_EQ(StateOf("f"), "");
  // Shutting down right after is prompt: no restore thread lingers.
  const absl::Time stop = absl::Now();
  StopSwiftd();
  EXPECT_LT(absl::Now() - stop, absl::Seconds(5));
}

TEST_F(FunctionRestoreTest, ShutdownDuringRetriesIsPromptAndKeepsTheFile) {
  ASSERT_TRUE(store_->Save(Function("f", "/nonexistent/f.so")).ok());
  StartSwiftd();
  ASSERT_NE(client_, nullptr);
  AwaitState("f", "failed: ");
  const absl::Time stop = absl::Now();
  StopSwiftd();
  EXPECT_LT(absl::Now() - stop, absl::Seconds(5));
  // A restart is not an unregister: the function is still stored.
  EXPECT_TRUE(Stored("f"));
}

TEST_F(FunctionRestoreTest, AnEmptyStateDirKeepsNothing) {
  SwiftdOptions options;
  options.socket_path = socket_;
  options.worker_binary = Absolute(RunfilePath("daemon/worker/swift_worker"));
  ASSERT_TRUE(store_->Save(Function("f", "/nonexistent/f.so")).ok());
  auto server = SwiftdServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ClientOptions client_options;
  client_options.socket_path = socket_;
  client_options.attach = false;
  auto client = ControlClient::Connect(client_options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto workers = (*client)->ListWorkers();
  ASSERT_TRUE(workers.ok());
  EXPECT_EQ(workers->workers_size(), 0);
}

}  // namespace
}  // namespace swift
