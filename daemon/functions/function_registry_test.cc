// FunctionRegistry: what each name allows as functions are registered,
// invoked, restored and removed; the store kept in step; Close().
// Workers here are processes that sleep (testing/sleeping_worker.h).
#include "daemon/functions/function_registry.h"

#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "daemon/functions/testing/child_count.h"
#include "daemon/functions/testing/registry_testing.h"
#include "daemon/functions/testing/sleeping_worker.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

FunctionRegistry::Authorize Anyone() {
  return [](const v1::RegisterFunctionRequest&) { return absl::OkStatus(); };
}

using ::swift::testing::AwaitNoChildren;
using ::swift::testing::ChildCount;
using ::swift::testing::SleepingWorker;
using ::swift::testing::Spec;
using ::swift::testing::StateOf;

absl::Status Allow(const v1::RegisterFunctionRequest&) {
  return absl::OkStatus();
}

// Whether process `pid` becomes a zombie (killed, not reaped) within 10 s.
bool AwaitZombie(pid_t pid) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(file)),
                     std::istreambuf_iterator<char>());
    if (absl::StrContains(stat, ") Z ")) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

class FunctionRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FunctionStore>> store = FunctionStore::Open(
        ::testing::TempDir() + "/" +
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    // Every worker dropped was killed and reaped.
    const ChildCount children = AwaitNoChildren();
    EXPECT_EQ(children.live, 0);
    EXPECT_EQ(children.zombies, 0);
  }

  std::unique_ptr<FunctionStore> store_;
};

TEST_F(FunctionRegistryTest, RegisterInvokeRemoveKeepTheStoreInStep) {
  FunctionRegistry registry(store_.get());
  EXPECT_TRUE(registry.CheckAvailable(Spec("f")).ok());
  std::shared_ptr<WorkerProcess> worker = SleepingWorker();
  ASSERT_NE(worker, nullptr);
  ASSERT_TRUE(registry.Add(Spec("f"), worker).ok());
  ASSERT_EQ(store_->LoadAll().size(), 1u);

  absl::Status taken = registry.CheckAvailable(Spec("f"));
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists) << taken;
  EXPECT_TRUE(absl::StrContains(taken.message(), "worker pid")) << taken;
  absl::StatusOr<FunctionRegistry::Target> target =
      registry.BeginInvocation("f", /*cold=*/false, Anyone());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->worker, worker);
  EXPECT_EQ(target->spec.library_path(), "/lib/f.so");
  registry.CountFailure("f");
  EXPECT_EQ(registry.BeginInvocation("g", false, Anyone()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*registry.WorkerOf("f", Anyone()), worker);
  // Refused callers get the authorization's error and count nothing.
  const FunctionRegistry::Authorize nobody =
      [](const v1::RegisterFunctionRequest&) {
        return absl::PermissionDeniedError("not yours");
      };
  EXPECT_EQ(registry.BeginInvocation("f", false, nobody).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(registry.WorkerOf("f", nobody).status().code(),
            absl::StatusCode::kPermissionDenied);

  std::vector<v1::WorkerInfo> listed = registry.List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state(), "ready");
  EXPECT_EQ(listed[0].worker_pid(), worker->pid());
  EXPECT_EQ(listed[0].invocations(), 1u);
  EXPECT_EQ(listed[0].failures(), 1u);
  EXPECT_EQ(listed[0].max_instances(), 8u);

  EXPECT_EQ(registry
                .Remove("f",
                        [](const v1::RegisterFunctionRequest&) {
                          return absl::PermissionDeniedError("no");
                        })
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->LoadAll().size(), 1u);
  absl::StatusOr<FunctionRegistry::Removed> removed =
      registry.Remove("f", Allow);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->worker, worker);
  EXPECT_FALSE(removed->restoring);
  EXPECT_TRUE(store_->LoadAll().empty());
  EXPECT_TRUE(registry.List().empty());
  EXPECT_EQ(registry.Remove("f", Allow).status().code(),
            absl::StatusCode::kNotFound);
}

// Issue 10: after a function's worker crashed, another user registered the
// same name and took it over. A name stays its tenant's until unregistered.
TEST_F(FunctionRegistryTest, AnotherTenantCannotTakeANameWhoseWorkerExited) {
  FunctionRegistry registry(store_.get());
  v1::RegisterFunctionRequest alices = Spec("f");
  alices.set_uid(1000);
  std::shared_ptr<WorkerProcess> worker = SleepingWorker();
  ASSERT_NE(worker, nullptr);
  ASSERT_TRUE(registry.Add(alices, worker).ok());
  // It crashes: killed, then reaped (its control socket is closed, so
  // AwaitStartup() reads the end and reaps it).
  worker->Kill();
  worker::v1::WorkerReady ready;
  EXPECT_FALSE(worker->AwaitStartup(absl::Seconds(10), &ready).ok());
  ASSERT_TRUE(worker->exited());
  ASSERT_EQ(StateOf(registry, "f"), "exited");

  v1::RegisterFunctionRequest bobs = Spec("f");
  bobs.set_uid(1001);
  bobs.set_library_path("/home/bob/evil.so");
  absl::Status taken = registry.CheckAvailable(bobs);
  EXPECT_EQ(taken.code(), absl::StatusCode::kPermissionDenied) << taken;
  EXPECT_TRUE(absl::StrContains(taken.message(), "another user")) << taken;
  EXPECT_FALSE(absl::StrContains(taken.message(), "1000")) << taken;
  // Root registering as another user is refused alike (the tenant is the
  // uid it runs as).
  v1::RegisterFunctionRequest as_root = Spec("f");
  EXPECT_EQ(registry.CheckAvailable(as_root).code(),
            absl::StatusCode::kPermissionDenied);
  // Even past the check (a registration that raced): Add() refuses.
  EXPECT_EQ(registry.Add(bobs, SleepingWorker()).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->LoadAll().size(), 1u);
  ASSERT_EQ(registry.List().size(), 1u);
  EXPECT_EQ(registry.List()[0].library_path(), "/lib/f.so");

  // The owner may bring it back, and once it unregisters, the name is free.
  EXPECT_TRUE(registry.CheckAvailable(alices).ok());
  ASSERT_TRUE(registry.Add(alices, SleepingWorker()).ok());
  ASSERT_TRUE(registry.Remove("f", Allow).ok());
  EXPECT_TRUE(registry.CheckAvailable(bobs).ok());
}

TEST_F(FunctionRegistryTest, ANameTheStoreCannotKeepIsRefusedUpFront) {
  FunctionRegistry registry(store_.get());
  const v1::RegisterFunctionRequest long_name = Spec(std::string(300, 'x'));
  EXPECT_EQ(registry.CheckStorable(long_name).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.CheckStorable(Spec("f")).ok());
  FunctionRegistry memory_only(nullptr);
  EXPECT_TRUE(memory_only.CheckStorable(long_name).ok());
  EXPECT_TRUE(memory_only.Add(long_name, SleepingWorker()).ok());
}

TEST_F(FunctionRegistryTest, ARestoreHoldsItsNameUntilItsWorkerIsReady) {
  FunctionRegistry registry(store_.get());
  std::optional<uint64_t> id = registry.BeginRestore(Spec("f"));
  ASSERT_TRUE(id.has_value());
  EXPECT_FALSE(registry.BeginRestore(Spec("f")).has_value());
  EXPECT_EQ(StateOf(registry, "f"), "restoring");
  absl::Status taken = registry.CheckAvailable(Spec("f"));
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(absl::StrContains(taken.message(), "being restored")) << taken;
  EXPECT_EQ(registry.Add(Spec("f"), SleepingWorker()).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(
      registry.BeginInvocation("f", /*cold=*/false, Anyone()).status().code(),
      absl::StatusCode::kUnavailable);
  EXPECT_TRUE(registry.BeginInvocation("f", /*cold=*/true, Anyone()).ok());
  EXPECT_EQ(registry.WorkerOf("f", Anyone()).status().code(),
            absl::StatusCode::kUnavailable);

  std::optional<FunctionRegistry::RestoreAttempt> attempt =
      registry.NextRestoreAttempt("f", *id);
  ASSERT_TRUE(attempt.has_value());
  EXPECT_EQ(attempt->number, 1);
  EXPECT_EQ(attempt->spec.library_path(), "/lib/f.so");
  EXPECT_EQ(registry.FinishRestoreAttempt("f", *id,
                                          absl::UnavailableError("peer down"),
                                          absl::Now() + absl::Seconds(5)),
            FunctionRegistry::AttemptOutcome::kFailed);
  EXPECT_EQ(StateOf(registry, "f"), "failed: peer down, retrying in 5s");
  EXPECT_FALSE(registry.RestoreEnded("f", *id, absl::Milliseconds(1)));
  EXPECT_EQ(registry.NextRestoreAttempt("f", *id)->number, 2);
  EXPECT_EQ(
      registry.FinishRestoreAttempt("f", *id, absl::UnavailableError("again"),
                                    absl::Now() - absl::Seconds(1)),
      FunctionRegistry::AttemptOutcome::kFailed);
  EXPECT_EQ(StateOf(registry, "f"),
            "restoring (attempt 3; the last failed: again)");

  std::shared_ptr<WorkerProcess> worker = SleepingWorker();
  EXPECT_TRUE(registry.SetRestoreStarting("f", *id, worker));
  EXPECT_EQ(registry.FinishRestoreAttempt("f", *id, worker, absl::Now()),
            FunctionRegistry::AttemptOutcome::kRestored);
  EXPECT_EQ(StateOf(registry, "f"), "ready");
  EXPECT_EQ(*registry.WorkerOf("f", Anyone()), worker);
  // That restore has ended.
  EXPECT_TRUE(registry.RestoreEnded("f", *id, absl::ZeroDuration()));
  EXPECT_FALSE(registry.NextRestoreAttempt("f", *id).has_value());
  EXPECT_FALSE(registry.SetRestoreStarting("f", *id, SleepingWorker()));
}

TEST_F(FunctionRegistryTest, RemovingARestoringFunctionEndsItsRestore) {
  FunctionRegistry registry(store_.get());
  std::optional<uint64_t> id = registry.BeginRestore(Spec("f"));
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(registry.NextRestoreAttempt("f", *id).has_value());
  std::shared_ptr<WorkerProcess> starting = SleepingWorker();
  ASSERT_TRUE(registry.SetRestoreStarting("f", *id, starting));
  absl::StatusOr<FunctionRegistry::Removed> removed =
      registry.Remove("f", Allow);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(removed->restoring);
  EXPECT_EQ(removed->starting, starting);
  EXPECT_EQ(removed->worker, nullptr);
  EXPECT_TRUE(registry.RestoreEnded("f", *id, absl::ZeroDuration()));
  EXPECT_EQ(
      registry.FinishRestoreAttempt("f", *id, SleepingWorker(), absl::Now()),
      FunctionRegistry::AttemptOutcome::kEnded);
  EXPECT_TRUE(registry.List().empty());
}

TEST_F(FunctionRegistryTest, CloseKillsEveryWorkerAndRefusesWhatFollows) {
  FunctionRegistry registry(store_.get());
  std::shared_ptr<WorkerProcess> worker = SleepingWorker();
  ASSERT_TRUE(registry.Add(Spec("f"), worker).ok());
  std::optional<uint64_t> id = registry.BeginRestore(Spec("g"));
  ASSERT_TRUE(id.has_value());
  std::shared_ptr<WorkerProcess> starting = SleepingWorker();
  ASSERT_TRUE(registry.SetRestoreStarting("g", *id, starting));
  registry.Close();
  // Killed: zombies until their last holders (here) drop them.
  EXPECT_TRUE(AwaitZombie(worker->pid()));
  EXPECT_TRUE(AwaitZombie(starting->pid()));
  EXPECT_TRUE(registry.List().empty());
  EXPECT_TRUE(registry.RestoreEnded("g", *id, absl::ZeroDuration()));
  EXPECT_EQ(registry.Add(Spec("h"), SleepingWorker()).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry.CheckAvailable(Spec("h")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(registry.BeginRestore(Spec("h")).has_value());
  // A shutdown is no unregister: the store keeps f.
  EXPECT_EQ(store_->LoadAll().size(), 1u);
  registry.Close();  // Idempotent.
}

}  // namespace
}  // namespace swift
