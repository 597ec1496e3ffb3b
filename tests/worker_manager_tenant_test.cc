// WorkerManager with functions that run as another user (nobody), served
// by the stub worker (stub_worker_fixture.h): what a tenant may not learn
// or do (issue 10, findings 8 and 9). Needs root.
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "daemon/functions/testing/child_count.h"
#include "daemon/functions/worker_manager.h"
#include "tests/stub_worker_fixture.h"

namespace swift {
namespace {

using ::swift::testing::Anyone;
using ::swift::testing::CountChildren;
using ::swift::testing::StubWorkerTest;
using ::swift::testing::TenantStubWorkerTest;

// Issue 10, finding 8: swiftd looked at the library as root (access())
// before it checked the tenant, so the error told a tenant whether a file
// it may not read exists. Now both get the same answer.
TEST_F(TenantStubWorkerTest, AMissingAndAnUnreadableLibraryLookTheSame) {
  WorkerManager manager(Options());
  const std::string hidden_dir = dir_.path() + "/private";
  ASSERT_EQ(mkdir(hidden_dir.c_str(), 0700), 0);
  const std::string hidden = hidden_dir + "/x.so";
  std::ofstream(hidden) << "";
  const std::string missing = hidden_dir + "/nonexistent.so";
  v1::RegisterFunctionRequest request = TenantFunction("f");
  request.set_library_path(hidden);
  const absl::Status unreadable = manager.Register(request).status();
  request.set_library_path(missing);
  const absl::Status absent = manager.Register(request).status();
  EXPECT_EQ(unreadable.code(), absl::StatusCode::kNotFound) << unreadable;
  EXPECT_EQ(absent.code(), unreadable.code()) << absent;
  EXPECT_EQ(absl::StrReplaceAll(unreadable.message(), {{hidden, "PATH"}}),
            absl::StrReplaceAll(absent.message(), {{missing, "PATH"}}));
  EXPECT_TRUE(
      absl::StrContains(unreadable.message(), "no readable function library"))
      << unreadable;
  EXPECT_EQ(CountChildren().live, 0);

  // One it can read runs, as nobody.
  absl::StatusOr<v1::RegisterFunctionResponse> registered =
      manager.Register(TenantFunction("f"));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_TRUE(
      manager.Invoke(Invocation("f", v1::InvokeRequest::FORK, "x"), Anyone())
          .ok());
}

// Issue 10, finding 8: a world-writable library was accepted for a
// function that runs as root: anyone could have run code as root.
TEST_F(StubWorkerTest, ALibraryOthersMayWriteIsRefusedNamingIt) {
  WorkerManager manager(Options());
  v1::RegisterFunctionRequest request = Function("f");
  ASSERT_EQ(chmod(request.library_path().c_str(), 0666), 0);
  absl::Status status = manager.Register(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), request.library_path()))
      << status;
  EXPECT_TRUE(
      absl::StrContains(status.message(), "writable by group or others"))
      << status;
  EXPECT_TRUE(manager.List().empty());
  EXPECT_EQ(CountChildren().live, 0);
  // Nor may a restore or a COLD invocation run it once it became so.
  ASSERT_EQ(chmod(request.library_path().c_str(), 0644), 0);
  ASSERT_TRUE(manager.Register(request).ok());
  ASSERT_EQ(chmod(request.library_path().c_str(), 0646), 0);
  absl::Status cold =
      manager.Invoke(Invocation("f", v1::InvokeRequest::COLD, ""), Anyone())
          .status();
  EXPECT_EQ(cold.code(), absl::StatusCode::kPermissionDenied) << cold;
}

// Issue 10, finding 9 (functions): per-tenant quotas on functions,
// instances and COLD workers, and a bound on workers in all; over-quota
// is RESOURCE_EXHAUSTED naming the flag, and starts nothing.
TEST_F(TenantStubWorkerTest, QuotasRefuseWhatIsOverAndNameTheirFlags) {
  WorkerManager::Options options = Options();
  options.startup_timeout = absl::Seconds(3);
  options.quotas.max_functions_per_tenant = 2;
  options.quotas.max_instances_per_tenant = 12;
  options.quotas.max_cold_workers_per_tenant = 1;
  options.quotas.max_workers = 4;
  WorkerManager manager(options);
  auto expect_exhausted = [](const absl::Status& status,
                             const std::string& flag) {
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), flag)) << status;
  };

  // Two functions of 4 + 1 spare instances each.
  for (const char* name : {"f1", "f2"}) {
    v1::RegisterFunctionRequest request = TenantFunction(name);
    request.set_max_instances(4);
    ASSERT_TRUE(manager.Register(request).ok()) << name;
  }
  expect_exhausted(manager.Register(TenantFunction("f3")).status(),
                   "--max_functions_per_tenant=2");
  EXPECT_EQ(CountChildren().live, 2);  // f3's worker never started.
  EXPECT_EQ(manager.QuotaUsage(kNobody).functions, 2u);
  EXPECT_EQ(manager.QuotaUsage(kNobody).instances, 10u);

  // Unregistering frees a function's room; its instances count against
  // the tenant's total.
  ASSERT_TRUE(manager.Unregister("f2", Allow).ok());
  v1::RegisterFunctionRequest big = TenantFunction("big");
  big.set_max_instances(8);
  expect_exhausted(manager.Register(big).status(),
                   "--max_instances_per_tenant=12");
  big.set_max_instances(6);
  ASSERT_TRUE(manager.Register(big).ok());

  // One COLD invocation at a time: the first hangs in its worker's
  // startup while the second is refused.
  Library("f1", "startup hang\n");
  absl::Status first_cold;
  std::thread cold([&] {
    first_cold =
        manager.Invoke(Invocation("f1", v1::InvokeRequest::COLD, ""), Anyone())
            .status();
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(3);
  while (CountChildren().live < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  expect_exhausted(
      manager.Invoke(Invocation("f1", v1::InvokeRequest::COLD, ""), Anyone())
          .status(),
      "--max_cold_workers_per_tenant=1");
  // Functions that run as root are exempt per tenant, but not from the
  // total: f1, big and the COLD worker hold 3 of 4.
  ASSERT_TRUE(manager.Register(Function("r1")).ok());
  expect_exhausted(manager.Register(Function("r2")).status(),
                   "--max_workers=4");
  cold.join();
  EXPECT_EQ(first_cold.code(), absl::StatusCode::kDeadlineExceeded)
      << first_cold;
  // The COLD worker's room is back.
  ASSERT_TRUE(manager.Register(Function("r2")).ok());
  EXPECT_EQ(manager.workers_held(), 4u);
  EXPECT_EQ(CountChildren().zombies, 0);
}

}  // namespace
}  // namespace swift
