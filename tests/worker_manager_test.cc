// Function registration as a host without RDMA sees it: bad requests are
// refused before anything starts, and a worker that cannot build its RDMA
// resources reports why instead of hanging or vanishing. With a stub
// worker (daemon/functions/testing/stub_worker.cc, swift_worker's protocol
// without verbs), WorkerManager's whole success path: register, invoke
// WARM/FORK/COLD, direct channels, list, unregister, restore with backoff,
// shutdown; and no failed start leaves a zombie behind.
#include "daemon/functions/worker_manager.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "daemon/functions/testing/child_count.h"
#include "proto/fast_path.pb.h"
#include "proto/worker.pb.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::Absolute;
using ::swift::testing::AwaitNoChildren;
using ::swift::testing::ChildCount;
using ::swift::testing::CountChildren;
using ::swift::testing::ReadWholeFile;
using ::swift::testing::RunCommand;
using ::swift::testing::RunfilePath;
using ::swift::testing::TempDir;
using ::swift::testing::TestSwiftd;

// An authorization that lets every caller use every function (the API
// layer decides for real: daemon/functions/function_access.h).
FunctionRegistry::Authorize Anyone() {
  return [](const v1::RegisterFunctionRequest&) { return absl::OkStatus(); };
}

// One that refuses, as AuthorizeInvocation() does for another tenant.
FunctionRegistry::Authorize Nobody() {
  return [](const v1::RegisterFunctionRequest& spec) {
    return absl::PermissionDeniedError("not yours: " + spec.name());
  };
}

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

// WorkerManager with the stub worker: no swiftd, no device.
class StubWorkerTest : public ::testing::Test {
 protected:
  WorkerManager::Options Options() {
    WorkerManager::Options options;
    options.worker_binary =
        Absolute(RunfilePath("daemon/functions/testing/stub_worker"));
    // Workers never connect to it: the stub brokers nothing.
    options.swiftd_socket = dir_.path() + "/swiftd.sock";
    options.startup_timeout = absl::Seconds(10);
    return options;
  }

  // Writes the stub's directives (see stub_worker.cc) as the library of
  // function `name`; returns its path.
  std::string Library(const std::string& name, const std::string& directives) {
    const std::string path = absl::StrCat(dir_.path(), "/", name, ".so");
    std::ofstream(path) << directives;
    return path;
  }

  v1::RegisterFunctionRequest Function(const std::string& name,
                                       const std::string& directives = "") {
    v1::RegisterFunctionRequest request;
    request.set_name(name);
    request.set_library_path(Library(name, directives));
    return request;
  }

  static v1::InvokeRequest Invocation(const std::string& function,
                                      v1::InvokeRequest::Mode mode,
                                      const std::string& payload) {
    v1::InvokeRequest request;
    request.set_function(function);
    request.set_mode(mode);
    request.set_payload(payload);
    return request;
  }

  static v1::WorkerInfo Info(const WorkerManager& manager,
                             const std::string& name) {
    for (const v1::WorkerInfo& info : manager.List()) {
      if (info.function() == name) {
        return info;
      }
    }
    return v1::WorkerInfo();
  }

  // Polls the state of `name` for up to 10 s until it contains `part`.
  static std::string AwaitState(const WorkerManager& manager,
                                const std::string& name,
                                const std::string& part) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::string state = Info(manager, name).state();
    while (!absl::StrContains(state, part) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
      state = Info(manager, name).state();
    }
    return state;
  }

  static absl::Status Allow(const v1::RegisterFunctionRequest&) {
    return absl::OkStatus();
  }

  TempDir dir_;
};

TEST_F(StubWorkerTest, RegisterInvokeListUnregister) {
  WorkerManager manager(Options());
  const std::string recorded = dir_.path() + "/argv";
  v1::RegisterFunctionRequest request =
      Function("f", absl::StrCat("record ", recorded, "\n"));
  request.set_prepared(3);
  for (const char* host : {"a", "b"}) {
    v1::FunctionPeer* peer = request.add_peers();
    peer->set_host(host);
    peer->set_service("kv");
  }
  absl::StatusOr<v1::RegisterFunctionResponse> registered =
      manager.Register(request);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_GT(registered->worker_pid(), 0);
  EXPECT_EQ(registered->worker_startup_us(), 1u);
  // swift_worker's command line, as the stub (which takes no other flag)
  // received it.
  const std::string argv = ReadWholeFile(recorded);
  for (const std::string& flag :
       {absl::StrCat("--function=", request.library_path()),
        absl::StrCat("--socket=", Options().swiftd_socket),
        std::string("--prepared=3"), std::string("--spares=1"),
        std::string("--max_instances=8"),
        std::string("--idle_timeout_ms=60000"),
        std::string("--connect=a/kv,b/kv")}) {
    EXPECT_TRUE(absl::StrContains(argv, flag)) << flag << " in " << argv;
  }
  EXPECT_FALSE(absl::StrContains(argv, "--cold")) << argv;

  // WARM falls back to FORK (a spare) until an instance has run.
  absl::StatusOr<v1::InvokeResponse> first =
      manager.Invoke(Invocation("f", v1::InvokeRequest::WARM, "hi"), Anyone());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->result(), "echo:hi");
  EXPECT_EQ(first->served_by(), v1::InvokeRequest::FORK);
  EXPECT_TRUE(first->spare());
  EXPECT_EQ(first->instance_pid(), registered->worker_pid());
  EXPECT_EQ(first->function_us(), 1u);
  EXPECT_EQ(first->worker_us(), 2u);
  EXPECT_GE(first->total_us(), first->worker_us());
  absl::StatusOr<v1::InvokeResponse> warm = manager.Invoke(
      Invocation("f", v1::InvokeRequest::WARM, "again"), Anyone());
  ASSERT_TRUE(warm.ok()) << warm.status();
  EXPECT_EQ(warm->served_by(), v1::InvokeRequest::WARM);
  absl::StatusOr<v1::InvokeResponse> fork =
      manager.Invoke(Invocation("f", v1::InvokeRequest::FORK, "x"), Anyone());
  ASSERT_TRUE(fork.ok()) << fork.status();
  EXPECT_EQ(fork->served_by(), v1::InvokeRequest::FORK);
  absl::Status failed =
      manager
          .Invoke(Invocation("f", v1::InvokeRequest::FORK, "fail:boom"),
                  Anyone())
          .status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted) << failed;
  EXPECT_EQ(failed.message(), "function 'f': boom");

  v1::WorkerInfo info = Info(manager, "f");
  EXPECT_EQ(info.state(), "ready");
  EXPECT_EQ(info.worker_pid(), registered->worker_pid());
  EXPECT_EQ(info.library_path(), request.library_path());
  EXPECT_EQ(info.invocations(), 4u);
  EXPECT_EQ(info.failures(), 1u);
  EXPECT_EQ(info.forks(), 3u);
  EXPECT_EQ(info.instances(), 3u);
  EXPECT_EQ(info.spare_hits(), 3u);
  EXPECT_EQ(info.max_instances(), 8u);
  EXPECT_EQ(info.peers_size(), 2);

  absl::Status taken = manager.Register(request).status();
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists) << taken;
  EXPECT_TRUE(absl::StrContains(
      taken.message(), absl::StrCat("worker pid ", registered->worker_pid())))
      << taken;

  // COLD: a worker of its own (--cold, no spares), reaped once it answered.
  absl::StatusOr<v1::InvokeResponse> cold =
      manager.Invoke(Invocation("f", v1::InvokeRequest::COLD, "c"), Anyone());
  ASSERT_TRUE(cold.ok()) << cold.status();
  EXPECT_EQ(cold->served_by(), v1::InvokeRequest::COLD);
  EXPECT_NE(cold->instance_pid(), registered->worker_pid());
  std::vector<std::string> lines =
      absl::StrSplit(ReadWholeFile(recorded), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(absl::StrContains(lines[1], "--cold")) << lines[1];
  EXPECT_TRUE(absl::StrContains(lines[1], "--spares=0")) << lines[1];
  ChildCount children = CountChildren();
  EXPECT_EQ(children.live, 1);  // The registered worker.
  EXPECT_EQ(children.zombies, 0);

  // A COLD function that never returns: swiftd enforces its timeout (the
  // worker runs it in its own process and cannot) and kills the worker; it
  // used to wait 30 s more, holding the worker and its connections.
  v1::InvokeRequest hung = Invocation("f", v1::InvokeRequest::COLD, "hang");
  hung.set_timeout_ms(200);
  absl::StatusOr<v1::InvokeResponse> timed_out = manager.Invoke(hung, Anyone());
  EXPECT_EQ(timed_out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::StrContains(timed_out.status().message(),
                                "did not return within its timeout"))
      << timed_out.status();
  children = CountChildren();
  EXPECT_EQ(children.live, 1);
  EXPECT_EQ(children.zombies, 0);

  absl::Status denied =
      manager
          .Unregister("f",
                      [](const v1::RegisterFunctionRequest&) {
                        return absl::PermissionDeniedError("not yours");
                      })
          .status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::UnregisterFunctionResponse> unregistered =
      manager.Unregister("f", Allow);
  ASSERT_TRUE(unregistered.ok()) << unregistered.status();
  EXPECT_EQ(unregistered->worker_pid(), registered->worker_pid());
  EXPECT_TRUE(manager.List().empty());
  EXPECT_EQ(
      manager.Invoke(Invocation("f", v1::InvokeRequest::WARM, ""), Anyone())
          .status()
          .code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(manager.Unregister("f", Allow).status().code(),
            absl::StatusCode::kNotFound);
  children = AwaitNoChildren();
  EXPECT_EQ(children.live, 0);
  EXPECT_EQ(children.zombies, 0);
}

TEST_F(StubWorkerTest, ADirectChannelReachesTheWorker) {
  WorkerManager manager(Options());
  ASSERT_TRUE(manager.Register(Function("f")).ok());
  auto pair = SeqpacketSocket::Pair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(
      manager.AttachChannel("f", pair->first, "client", 42, Anyone()).ok());
  // A client speaks the fast path's messages on its channel.
  v1::FastRequest request;
  request.set_call_id(7);
  request.mutable_invoke()->set_function("f");
  request.mutable_invoke()->set_mode(v1::InvokeRequest::WARM);
  request.mutable_invoke()->set_payload("direct");
  ASSERT_TRUE(pair->second.Send(request.SerializeAsString()).ok());
  absl::StatusOr<SeqpacketSocket::Message> message = pair->second.Receive();
  ASSERT_TRUE(message.ok()) << message.status();
  v1::FastResponse reply;
  ASSERT_TRUE(reply.ParseFromString(message->data));
  EXPECT_EQ(reply.call_id(), 7u);
  EXPECT_EQ(reply.code(), 0) << reply.message();
  EXPECT_EQ(reply.invoke().result(), "echo:direct");
  // swiftd did not see it, but counts it from the worker's stats.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Info(manager, "f").invocations() != 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(Info(manager, "f").invocations(), 1u);

  EXPECT_EQ(
      manager.AttachChannel("nope", pair->first, "client", 42, Anyone()).code(),
      absl::StatusCode::kNotFound);
}

// Issue 10, finding 2: an invocation (or a direct channel) the caller may
// not make is refused before anything runs, and counts as nothing.
TEST_F(StubWorkerTest, UnauthorizedCallersCannotInvokeOrOpenChannels) {
  WorkerManager manager(Options());
  ASSERT_TRUE(manager.Register(Function("f")).ok());
  for (v1::InvokeRequest::Mode mode :
       {v1::InvokeRequest::WARM, v1::InvokeRequest::FORK,
        v1::InvokeRequest::COLD}) {
    absl::Status refused =
        manager.Invoke(Invocation("f", mode, "x"), Nobody()).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  }
  auto pair = SeqpacketSocket::Pair();
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(
      manager.AttachChannel("f", pair->first, "client", 42, Nobody()).code(),
      absl::StatusCode::kPermissionDenied);
  const v1::WorkerInfo info = Info(manager, "f");
  EXPECT_EQ(info.invocations(), 0u);
  EXPECT_EQ(info.forks(), 0u);
  // Only the worker itself runs: no COLD worker was started.
  EXPECT_EQ(CountChildren().live, 1);
}

TEST_F(StubWorkerTest, AWorkerThatDiesIsUnavailableAndCanBeRegisteredAgain) {
  WorkerManager manager(Options());
  ASSERT_TRUE(manager.Register(Function("f")).ok());
  absl::Status died =
      manager.Invoke(Invocation("f", v1::InvokeRequest::WARM, "exit"), Anyone())
          .status();
  EXPECT_EQ(died.code(), absl::StatusCode::kUnavailable) << died;
  EXPECT_TRUE(absl::StrContains(died.message(), "exited during")) << died;
  EXPECT_EQ(AwaitState(manager, "f", "exited"), "exited");
  absl::Status gone =
      manager.Invoke(Invocation("f", v1::InvokeRequest::FORK, "x"), Anyone())
          .status();
  EXPECT_EQ(gone.code(), absl::StatusCode::kUnavailable) << gone;
  auto pair = SeqpacketSocket::Pair();
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(
      manager.AttachChannel("f", pair->first, "client", 1, Anyone()).code(),
      absl::StatusCode::kUnavailable);
  EXPECT_EQ(CountChildren().zombies, 0);

  ASSERT_TRUE(manager.Register(Function("f")).ok());
  EXPECT_TRUE(
      manager.Invoke(Invocation("f", v1::InvokeRequest::FORK, "x"), Anyone())
          .ok());
}

TEST_F(StubWorkerTest, FailedStartsLeaveNoZombies) {
  WorkerManager::Options options = Options();
  options.startup_timeout = absl::Milliseconds(300);
  WorkerManager manager(options);
  struct Case {
    std::string directives;
    absl::StatusCode code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"startup fail 9 no device here\n", absl::StatusCode::kFailedPrecondition,
       "function 'f': no device here"},
      {"startup exit 3\n", absl::StatusCode::kInternal, "exited with status 3"},
      {"startup hang\n", absl::StatusCode::kDeadlineExceeded,
       "did not get ready within"},
  };
  for (const Case& c : cases) {
    for (int i = 0; i < 3; ++i) {
      // A registration and a COLD invocation each start a worker.
      absl::Status status =
          manager.Register(Function("f", c.directives)).status();
      EXPECT_EQ(status.code(), c.code) << status;
      EXPECT_TRUE(absl::StrContains(status.message(), c.says)) << status;
      ChildCount children = CountChildren();
      EXPECT_EQ(children.live, 0) << c.directives;
      EXPECT_EQ(children.zombies, 0) << c.directives;
    }
  }
  EXPECT_TRUE(manager.List().empty());

  // A registered function whose COLD workers fail to start.
  ASSERT_TRUE(manager.Register(Function("g")).ok());
  Library("g", "startup fail 14 peer down\n");
  for (int i = 0; i < 3; ++i) {
    absl::Status cold =
        manager.Invoke(Invocation("g", v1::InvokeRequest::COLD, ""), Anyone())
            .status();
    EXPECT_EQ(cold.code(), absl::StatusCode::kUnavailable) << cold;
    EXPECT_TRUE(absl::StrContains(cold.message(), "peer down")) << cold;
  }
  ChildCount children = CountChildren();
  EXPECT_EQ(children.live, 1);  // g's worker.
  EXPECT_EQ(children.zombies, 0);
  EXPECT_EQ(Info(manager, "g").failures(), 3u);

  // A worker binary that cannot be executed.
  const std::string garbage = dir_.path() + "/garbage";
  std::ofstream(garbage) << "not a program\n";
  chmod(garbage.c_str(), 0755);
  WorkerManager::Options broken_options = Options();
  broken_options.worker_binary = garbage;
  WorkerManager broken(broken_options);
  absl::Status status = broken.Register(Function("h")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "Exec format error"))
      << status;
  EXPECT_EQ(CountChildren().zombies, 0);
}

TEST_F(StubWorkerTest, ShutdownKillsAndReapsEveryWorker) {
  WorkerManager manager(Options());
  ASSERT_TRUE(manager.Register(Function("f")).ok());
  ASSERT_TRUE(manager.Register(Function("g")).ok());
  EXPECT_EQ(CountChildren().live, 2);
  manager.Shutdown();
  ChildCount children = CountChildren();
  EXPECT_EQ(children.live, 0);
  EXPECT_EQ(children.zombies, 0);
  EXPECT_TRUE(manager.List().empty());
  EXPECT_EQ(manager.Register(Function("f")).status().code(),
            absl::StatusCode::kUnavailable);
  manager.Shutdown();  // Idempotent.
}

TEST_F(StubWorkerTest, RestoreRetriesWithBackoffUntilTheWorkerStarts) {
  WorkerManager::Options options = Options();
  options.restore_backoff = absl::Milliseconds(100);
  options.restore_backoff_max = absl::Milliseconds(400);
  WorkerManager manager(options);
  v1::RegisterFunctionRequest stored =
      Function("f", "startup fail 14 peer not up yet\n");
  manager.Restore({stored});
  std::string state = AwaitState(manager, "f", "failed: ");
  EXPECT_TRUE(absl::StartsWith(state, "failed: peer not up yet, retrying in"))
      << state;
  // Meanwhile the name is taken, and only COLD can run.
  absl::Status registered = manager.Register(Function("f")).status();
  EXPECT_EQ(registered.code(), absl::StatusCode::kAlreadyExists) << registered;
  EXPECT_TRUE(absl::StrContains(registered.message(), "being restored"));
  absl::Status warm =
      manager.Invoke(Invocation("f", v1::InvokeRequest::WARM, ""), Anyone())
          .status();
  EXPECT_EQ(warm.code(), absl::StatusCode::kUnavailable) << warm;
  EXPECT_TRUE(absl::StrContains(warm.message(), "being restored")) << warm;
  // Restoring a name again does nothing.
  manager.Restore({stored});
  EXPECT_EQ(manager.List().size(), 1u);

  // The peer comes up: the next attempt starts the worker.
  Library("f", "");
  EXPECT_EQ(AwaitState(manager, "f", "ready"), "ready");
  absl::StatusOr<v1::InvokeResponse> invoked = manager.Invoke(
      Invocation("f", v1::InvokeRequest::FORK, "back"), Anyone());
  ASSERT_TRUE(invoked.ok()) << invoked.status();
  EXPECT_EQ(invoked->result(), "echo:back");
  ChildCount children = CountChildren();
  EXPECT_EQ(children.live, 1);
  EXPECT_EQ(children.zombies, 0);
}

TEST_F(StubWorkerTest, UnregisterEndsARestoreAndKillsTheWorkerItStarts) {
  WorkerManager manager(Options());  // 10 s startup timeout.
  const std::string recorded = dir_.path() + "/argv";
  manager.Restore(
      {Function("f", absl::StrCat("record ", recorded, "\nstartup hang\n"))});
  EXPECT_EQ(AwaitState(manager, "f", "restoring"), "restoring");
  // Its worker runs (and hangs) once it has recorded its command line.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (ReadWholeFile(recorded).empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::UnregisterFunctionResponse> unregistered =
      manager.Unregister("f", Allow);
  ASSERT_TRUE(unregistered.ok()) << unregistered.status();
  EXPECT_GT(unregistered->worker_pid(), 0);
  EXPECT_TRUE(manager.List().empty());
  ChildCount children = AwaitNoChildren();
  EXPECT_EQ(children.live, 0);
  EXPECT_EQ(children.zombies, 0);
  // Well before the startup timeout: the restore ended when killed.
  manager.Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// Functions that run as nobody, served by a copy of the stub worker that
// nobody may run (Bazel's tree is root's). Needs root.
class TenantStubWorkerTest : public StubWorkerTest {
 protected:
  static constexpr uint32_t kNobody = 65534;

  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root to run workers as another user";
    }
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    stub_ = dir_.path() + "/stub_worker";
    ASSERT_EQ(
        RunCommand(
            absl::StrCat("cp ",
                         RunfilePath("daemon/functions/testing/stub_worker"),
                         " ", stub_, " && chmod 0755 ", stub_))
            .exit_code,
        0);
  }

  WorkerManager::Options Options() {
    WorkerManager::Options options = StubWorkerTest::Options();
    options.worker_binary = stub_;
    return options;
  }

  v1::RegisterFunctionRequest TenantFunction(const std::string& name,
                                             uint32_t uid = kNobody) {
    v1::RegisterFunctionRequest request = Function(name);
    chmod(request.library_path().c_str(), 0644);
    request.set_uid(uid);
    return request;
  }

  std::string stub_;
};

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
