// Cold templates as WorkerManager uses them, with the stub worker
// (daemon/functions/testing/stub_worker.cc) as template: COLD invocations
// of a tenant share one template, which expires when idle, is replaced
// when it dies, is killed when it stops answering (swiftd enforces the
// COLD timeout), is never shared across tenants or memory limits, and
// gives way to a fresh worker (the old path) when it cannot start; the
// quota of COLD invocations holds; no path leaves a zombie.
#include "daemon/functions/cold_templates.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/command_testing.h"
#include "common/testing/sanitizer_build.h"
#include "daemon/functions/testing/child_count.h"
#include "daemon/functions/worker_manager.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::Absolute;
using ::swift::testing::CountChildren;
using ::swift::testing::ReadWholeFile;
using ::swift::testing::RunCommand;
using ::swift::testing::RunfilePath;
using ::swift::testing::TempDir;

FunctionRegistry::Authorize Anyone() {
  return [](const v1::RegisterFunctionRequest&) { return absl::OkStatus(); };
}

// Polls `done` for up to 10 s.
template <typename Done>
bool Within10s(Done done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) {
      return false;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

class ColdTemplatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    // A copy others may run (Bazel's tree may be root's alone).
    stub_ = dir_.path() + "/stub_worker";
    ASSERT_EQ(
        RunCommand(
            absl::StrCat("cp ",
                         RunfilePath("daemon/functions/testing/stub_worker"),
                         " ", stub_, " && chmod 0755 ", stub_))
            .exit_code,
        0);
  }

  WorkerManager::Options Options(
      absl::Duration idle = absl::Seconds(60)) const {
    WorkerManager::Options options;
    options.worker_binary = stub_;
    options.swiftd_socket = dir_.path() + "/swiftd.sock";
    options.startup_timeout = absl::Seconds(10);
    options.cold_template_idle_timeout = idle;
    return options;
  }

  v1::RegisterFunctionRequest Function(const std::string& name,
                                       uint32_t uid = 0) {
    v1::RegisterFunctionRequest request;
    request.set_name(name);
    request.set_library_path(absl::StrCat(dir_.path(), "/", name, ".so"));
    std::ofstream(request.library_path())
        << absl::StrCat("record ", dir_.path(), "/argv\n");
    chmod(request.library_path().c_str(), 0644);
    request.set_uid(uid);
    return request;
  }

  static v1::InvokeRequest Cold(const std::string& function,
                                const std::string& payload,
                                uint32_t timeout_ms = 0) {
    v1::InvokeRequest request;
    request.set_function(function);
    request.set_mode(v1::InvokeRequest::COLD);
    request.set_payload(payload);
    request.set_timeout_ms(timeout_ms);
    return request;
  }

  // The uid /proc says `pid` runs as.
  static int UidOf(pid_t pid) {
    std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (absl::StartsWith(line, "Uid:")) {
        return std::stoi(line.substr(4));
      }
    }
    return -1;
  }

  // The pid of the process that served a COLD invocation of `name`.
  static pid_t ServedBy(WorkerManager& manager, const std::string& name) {
    absl::StatusOr<v1::InvokeResponse> cold =
        manager.Invoke(Cold(name, "x"), Anyone());
    EXPECT_TRUE(cold.ok()) << name << ": " << cold.status();
    return cold.ok() ? static_cast<pid_t>(cold->instance_pid()) : -1;
  }

  TempDir dir_;
  std::string stub_;
};

TEST_F(ColdTemplatesTest, ColdInvocationsShareOneTemplateThatExpiresWhenIdle) {
  WorkerManager manager(Options(absl::Milliseconds(300)));
  ASSERT_TRUE(manager.Register(Function("f")).ok());
  absl::StatusOr<v1::InvokeResponse> first =
      manager.Invoke(Cold("f", "one"), Anyone());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->result(), "echo:one");
  EXPECT_EQ(first->served_by(), v1::InvokeRequest::COLD);
  ASSERT_EQ(manager.cold_template_pids().size(), 1u);
  const pid_t template_pid = manager.cold_template_pids()[0];
  EXPECT_EQ(first->instance_pid(), template_pid);
  // The template's command line: no function, no peers.
  const std::string cmdline =
      ReadWholeFile(absl::StrCat("/proc/", template_pid, "/cmdline"));
  EXPECT_TRUE(absl::StrContains(cmdline, "--template")) << cmdline;
  EXPECT_FALSE(absl::StrContains(cmdline, "--function")) << cmdline;
  absl::StatusOr<v1::InvokeResponse> second =
      manager.Invoke(Cold("f", "two"), Anyone());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->instance_pid(), template_pid);
  // Only the registration's worker was started the old way (--cold never).
  EXPECT_FALSE(
      absl::StrContains(ReadWholeFile(dir_.path() + "/argv"), "--cold"));
  // The COLD claims were given back.
  EXPECT_EQ(manager.QuotaUsage(0).cold_workers, 0u);
  EXPECT_EQ(CountChildren().live, 2);  // The worker and the template.
  // Idle: stopped and reaped. It exits before its last reference goes
  // (the reap): wait for both, as the timeout test below does (CI saw the
  // exited template still a zombie when only the exit was waited for).
  EXPECT_TRUE(Within10s([&] { return manager.cold_template_pids().empty(); }));
  EXPECT_TRUE(Within10s([] {
    const testing::ChildCount children = CountChildren();
    return children.live == 1 && children.zombies == 0;
  }));
  // The next COLD invocation starts another.
  absl::StatusOr<v1::InvokeResponse> third =
      manager.Invoke(Cold("f", "three"), Anyone());
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_NE(third->instance_pid(), template_pid);
}

TEST_F(ColdTemplatesTest, ATemplateThatDiesIsReplacedAndTheCallerTold) {
  WorkerManager manager(Options());
  ASSERT_TRUE(manager.Register(Function("f")).ok());
  ASSERT_TRUE(manager.Invoke(Cold("f", "x"), Anyone()).ok());
  ASSERT_EQ(manager.cold_template_pids().size(), 1u);
  const pid_t killed = manager.cold_template_pids()[0];
  ASSERT_EQ(kill(killed, SIGKILL), 0);
  EXPECT_TRUE(Within10s([&] { return manager.cold_template_pids().empty(); }));
  absl::StatusOr<v1::InvokeResponse> after =
      manager.Invoke(Cold("f", "y"), Anyone());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(after->instance_pid(), killed);

  // Dying during an invocation ("exit": the stub template exits) is a
  // clear error, and the next invocation is served by a new template.
  const pid_t dying = manager.cold_template_pids()[0];
  absl::Status died = manager.Invoke(Cold("f", "exit"), Anyone()).status();
  EXPECT_EQ(died.code(), absl::StatusCode::kUnavailable) << died;
  EXPECT_TRUE(absl::StrContains(died.message(), "function 'f'")) << died;
  EXPECT_TRUE(absl::StrContains(died.message(),
                                absl::StrCat("cold template (pid ", dying,
                                             ") serving uid 0 exited "
                                             "during the invocation")))
      << died;
  absl::StatusOr<v1::InvokeResponse> again =
      manager.Invoke(Cold("f", "z"), Anyone());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(again->instance_pid(), dying);
  EXPECT_EQ(CountChildren().zombies, 0);
  EXPECT_EQ(manager.QuotaUsage(0).cold_workers, 0u);
}

TEST_F(ColdTemplatesTest, ATemplateThatStopsAnsweringIsKilledAtTheTimeout) {
  WorkerManager manager(Options());
  ASSERT_TRUE(manager.Register(Function("f")).ok());
  const absl::Time start = absl::Now();
  absl::Status hung =
      manager.Invoke(Cold("f", "hang", /*timeout_ms=*/200), Anyone()).status();
  EXPECT_EQ(hung.code(), absl::StatusCode::kDeadlineExceeded) << hung;
  EXPECT_TRUE(
      absl::StrContains(hung.message(), "did not return within its timeout"))
      << hung;
  // The timeout and swiftd's grace, not the default 30 s.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(manager.cold_template_pids().empty());
  EXPECT_TRUE(Within10s([] {
    const testing::ChildCount children = CountChildren();
    return children.live == 1 && children.zombies == 0;
  }));
  ASSERT_TRUE(manager.Invoke(Cold("f", "after"), Anyone()).ok());
}

TEST_F(ColdTemplatesTest, AFreshWorkerServesWhenNoTemplateCanStart) {
  const std::string refuse = dir_.path() + "/swiftd.sock.refuse_template";
  std::ofstream(refuse) << "";
  WorkerManager manager(Options());
  ASSERT_TRUE(manager.Register(Function("f")).ok());
  for (const char* payload : {"a", "b"}) {
    absl::StatusOr<v1::InvokeResponse> cold =
        manager.Invoke(Cold("f", payload), Anyone());
    ASSERT_TRUE(cold.ok()) << cold.status();
    EXPECT_EQ(cold->result(), absl::StrCat("echo:", payload));
  }
  EXPECT_TRUE(manager.cold_template_pids().empty());
  // Both ran in fresh workers (--cold); the failed template was not
  // retried for the second (one refusal recorded).
  const std::string argv = ReadWholeFile(dir_.path() + "/argv");
  EXPECT_EQ(std::count(argv.begin(), argv.end(), '\n'), 3) << argv;
  EXPECT_TRUE(absl::StrContains(argv, "--cold")) << argv;
  EXPECT_EQ(ReadWholeFile(refuse), "refused\n");
  EXPECT_EQ(CountChildren().live, 1);
  EXPECT_EQ(CountChildren().zombies, 0);
}

TEST_F(ColdTemplatesTest, QuotaOfColdInvocationsStillHolds) {
  WorkerManager::Options options = Options();
  options.quotas.max_cold_workers_per_tenant = 1;
  WorkerManager manager(options);
  ASSERT_TRUE(manager.Register(Function("f", 65534)).ok() || geteuid() != 0);
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to run a template as another user";
  }
  absl::Status first;
  std::thread hung([&] {
    first = manager.Invoke(Cold("f", "hang", 2000), Anyone()).status();
  });
  ASSERT_TRUE(
      Within10s([&] { return manager.QuotaUsage(65534).cold_workers == 1; }));
  absl::Status second = manager.Invoke(Cold("f", "x"), Anyone()).status();
  EXPECT_EQ(second.code(), absl::StatusCode::kResourceExhausted) << second;
  EXPECT_TRUE(
      absl::StrContains(second.message(), "--max_cold_workers_per_tenant=1"))
      << second;
  hung.join();
  EXPECT_EQ(first.code(), absl::StatusCode::kDeadlineExceeded) << first;
  EXPECT_EQ(manager.QuotaUsage(65534).cold_workers, 0u);
}

TEST_F(ColdTemplatesTest, TemplatesAreNeverSharedAcrossTenants) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to run templates as other users";
  }
  WorkerManager manager(Options());
  for (const v1::RegisterFunctionRequest& request :
       {Function("root"), Function("nobody", 65534)}) {
    ASSERT_TRUE(manager.Register(request).ok()) << request.name();
  }
  const pid_t root = ServedBy(manager, "root");
  const pid_t nobody = ServedBy(manager, "nobody");
  EXPECT_NE(root, nobody);
  EXPECT_EQ(UidOf(root), 0);
  EXPECT_EQ(UidOf(nobody), 65534);
  // Each key keeps its own: asked again, the same ones serve.
  EXPECT_EQ(ServedBy(manager, "nobody"), nobody);
  EXPECT_EQ(ServedBy(manager, "root"), root);
  EXPECT_EQ(manager.cold_template_pids().size(), 2u);
  manager.Shutdown();
  EXPECT_TRUE(manager.cold_template_pids().empty());
}

// Not in an ASan build: an ASan-built worker cannot start under an
// RLIMIT_AS (its shadow needs ~15 TB of address space;
// common/testing/sanitizer_build.h).
#if !SWIFT_ADDRESS_SANITIZER_BUILD
TEST_F(ColdTemplatesTest, TemplatesAreNeverSharedAcrossMemoryLimits) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to run templates as other users";
  }
  WorkerManager manager(Options());
  v1::RegisterFunctionRequest limited = Function("limited", 65534);
  limited.set_memory_limit_bytes(uint64_t{8} << 30);
  for (const v1::RegisterFunctionRequest& request :
       {Function("nobody", 65534), limited}) {
    ASSERT_TRUE(manager.Register(request).ok()) << request.name();
  }
  const pid_t nobody = ServedBy(manager, "nobody");
  const pid_t nobody_limited = ServedBy(manager, "limited");
  EXPECT_NE(nobody, nobody_limited);
  EXPECT_EQ(UidOf(nobody_limited), 65534);
  EXPECT_EQ(ServedBy(manager, "limited"), nobody_limited);
  EXPECT_EQ(manager.cold_template_pids().size(), 2u);
}
#endif  // !SWIFT_ADDRESS_SANITIZER_BUILD

}  // namespace
}  // namespace swift
