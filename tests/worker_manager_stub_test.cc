// WorkerManager's whole success path with the stub worker
// (stub_worker_fixture.h): register, invoke WARM/FORK/COLD, direct
// channels, list, unregister, restore with backoff, shutdown; and no
// failed start leaves a zombie behind.
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
#include "daemon/functions/worker_manager.h"
#include "proto/fast_path.pb.h"
#include "proto/worker.pb.h"
#include "tests/stub_worker_fixture.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::Absolute;
using ::swift::testing::Anyone;
using ::swift::testing::AwaitNoChildren;
using ::swift::testing::ChildCount;
using ::swift::testing::CountChildren;
using ::swift::testing::Nobody;
using ::swift::testing::ReadWholeFile;
using ::swift::testing::RunfilePath;
using ::swift::testing::StubWorkerTest;

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

}  // namespace
}  // namespace swift
