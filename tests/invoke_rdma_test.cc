// The serverless fork path on two "hosts" of the Soft-RoCE guest: a sink
// service listens through swiftd A (rxeA); a function registered with
// swiftd B (rxeB) runs in swift_worker instances whose QPs swiftd B
// brokered to the sink. Cold, warm and fork invocations; a crashing,
// hanging, failing and a private-memory function; 1,000 forks.
#include <dirent.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/function_rdma_fixture.h"

namespace swift {
namespace {

using ::swift::testing::FunctionRdmaTest;

constexpr int kPeerPort = 17481;

// Children of `pid` (from /proc).
int CountChildren(pid_t pid) {
  int children = 0;
  DIR* proc = opendir("/proc");
  while (dirent* entry = readdir(proc)) {
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
      continue;
    }
    // pid (comm) state ppid ...
    const size_t close = line.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    int ppid = 0;
    char state = 0;
    if (sscanf(line.c_str() + close + 2, "%c %d", &state, &ppid) == 2 &&
        ppid == pid) {
      ++children;
    }
  }
  closedir(proc);
  return children;
}

int CountFds(pid_t pid) {
  int fds = 0;
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) {
    return -1;
  }
  while (readdir(dir) != nullptr) {
    ++fds;
  }
  closedir(dir);
  return fds;
}

class InvokeRdmaTest : public FunctionRdmaTest {
 protected:
  InvokeRdmaTest() : FunctionRdmaTest(kPeerPort) {}

  // Registers the test function as "f".
  void SetUp() override {
    FunctionRdmaTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    auto registered = client_->RegisterFunction(TestFunction("f"));
    ASSERT_TRUE(registered.ok()) << registered.status();
    worker_pid_ = registered->worker_pid();
  }

  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& payload,
                                            v1::InvokeRequest::Mode mode,
                                            uint32_t timeout_ms = 10000) {
    return InvokeFunction("f", payload, mode, timeout_ms);
  }

  int64_t worker_pid_ = 0;
};

TEST_F(InvokeRdmaTest, ForkedChildWriteLandsInRemoteMemory) {
  auto invoked = Invoke("write:from-a-forked-child", v1::InvokeRequest::FORK);
  ASSERT_TRUE(invoked.ok()) << invoked.status();
  EXPECT_EQ(invoked->result(), "wrote 19");
  EXPECT_EQ(invoked->served_by(), v1::InvokeRequest::FORK);
  EXPECT_NE(invoked->instance_pid(), worker_pid_);
  EXPECT_EQ(SinkBytes(19), "from-a-forked-child");
}

TEST_F(InvokeRdmaTest, WarmReusesTheIdleInstanceAndColdBuildsAFreshWorker) {
  auto forked = Invoke("write:fork-first", v1::InvokeRequest::FORK);
  ASSERT_TRUE(forked.ok()) << forked.status();
  auto warm = Invoke("write:warm-second", v1::InvokeRequest::WARM);
  ASSERT_TRUE(warm.ok()) << warm.status();
  EXPECT_EQ(warm->served_by(), v1::InvokeRequest::WARM);
  EXPECT_EQ(warm->instance_pid(), forked->instance_pid());
  EXPECT_EQ(SinkBytes(11), "warm-second");

  auto cold = Invoke("write:cold-third", v1::InvokeRequest::COLD);
  ASSERT_TRUE(cold.ok()) << cold.status();
  EXPECT_EQ(cold->served_by(), v1::InvokeRequest::COLD);
  EXPECT_NE(cold->instance_pid(), worker_pid_);
  EXPECT_EQ(SinkBytes(10), "cold-third");
}

TEST_F(InvokeRdmaTest, AForkAfterAPauseRunsInASpareForkedBeforeIt) {
  auto first = Invoke("write:first", v1::InvokeRequest::FORK);
  ASSERT_TRUE(first.ok()) << first.status();
  // Once traffic pauses the worker forks a spare; a FORK then runs there.
  // (Polled: how soon the spare is ready depends on the machine.)
  absl::StatusOr<v1::InvokeResponse> spare;
  for (int attempt = 0; attempt < 50; ++attempt) {
    absl::SleepFor(absl::Milliseconds(200));
    spare = Invoke(absl::StrCat("write:spare-", attempt % 10),
                   v1::InvokeRequest::FORK);
    ASSERT_TRUE(spare.ok()) << spare.status();
    if (spare->spare()) {
      break;
    }
  }
  ASSERT_TRUE(spare->spare()) << "no FORK ran in a spare within 10 s";
  EXPECT_EQ(spare->served_by(), v1::InvokeRequest::FORK);
  // The worker parked this client's channel on the spare while both were
  // idle: the request went straight to it.
  EXPECT_TRUE(spare->parked());
  // A process of its own, neither the worker nor the first instance.
  EXPECT_NE(spare->instance_pid(), worker_pid_);
  EXPECT_NE(spare->instance_pid(), first->instance_pid());
  EXPECT_EQ(spare->result(), "wrote 7");
  EXPECT_EQ(SinkBytes(7).substr(0, 6), "spare-");

  // swiftctl workers' view: the spare was used and a new one is forked.
  // (The worker's stats come once it pauses: the ones from before the
  // FORK also show one spare, so the hit is what is waited for.)
  v1::WorkerInfo info;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto workers = client_->ListWorkers();
    ASSERT_TRUE(workers.ok()) << workers.status();
    ASSERT_EQ(workers->workers_size(), 1);
    info = workers->workers(0);
    if (info.spare_instances() == 1 && info.spare_hits() >= 1) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(info.spare_instances(), 1u);
  EXPECT_GE(info.spare_hits(), 1u);
  EXPECT_GE(info.forks(), 2u);
  EXPECT_EQ(info.busy_instances(), 0u);
  EXPECT_GE(info.instances(), 2u);  // The first instance, idle, and a spare.
}

TEST_F(InvokeRdmaTest, WithoutSparesEachForkForksOnArrival) {
  v1::RegisterFunctionRequest request = TestFunction("no_spares");
  request.set_spare_instances(0);
  auto registered = client_->RegisterFunction(request);
  ASSERT_TRUE(registered.ok()) << registered.status();
  std::set<int64_t> instances;
  for (int i = 0; i < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(300));
    auto invoked = InvokeFunction("no_spares", absl::StrCat("echo:", i),
                                  v1::InvokeRequest::FORK);
    ASSERT_TRUE(invoked.ok()) << invoked.status();
    EXPECT_FALSE(invoked->spare());
    EXPECT_EQ(invoked->result(), std::to_string(i));
    instances.insert(invoked->instance_pid());
  }
  EXPECT_EQ(instances.size(), 3u) << "every FORK gets a fresh child";
}

TEST_F(InvokeRdmaTest, CrashHangAndFailureAreReportedAndTheWorkerGoesOn) {
  auto crashed = Invoke("crash", v1::InvokeRequest::FORK);
  EXPECT_EQ(crashed.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StrContains(crashed.status().message(), "signal 11"))
      << crashed.status();

  auto hung = Invoke("hang", v1::InvokeRequest::FORK, /*timeout_ms=*/1500);
  EXPECT_EQ(hung.status().code(), absl::StatusCode::kDeadlineExceeded)
      << hung.status();

  auto failed = Invoke("fail", v1::InvokeRequest::FORK);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(absl::StrContains(failed.status().message(), "returned 7"))
      << failed.status();

  auto alive = Invoke("write:still-alive", v1::InvokeRequest::FORK);
  ASSERT_TRUE(alive.ok()) << alive.status();
  EXPECT_EQ(SinkBytes(11), "still-alive");
  EXPECT_EQ(kill(static_cast<pid_t>(worker_pid_), 0), 0) << "worker died";
}

TEST_F(InvokeRdmaTest, PrivateMemoryInAForkedInstanceIsRefused) {
  auto refused = Invoke("private", v1::InvokeRequest::FORK);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "private"))
      << refused.status();
}

TEST_F(InvokeRdmaTest, UnregisterStopsTheWorkerAndReturnsItsConnections) {
  auto registered = client_->RegisterFunction(TestFunction("short_lived"));
  ASSERT_TRUE(registered.ok()) << registered.status();
  auto invoked = InvokeFunction("short_lived", "write:short-lived",
                                v1::InvokeRequest::FORK);
  ASSERT_TRUE(invoked.ok()) << invoked.status();
  const pid_t instance = static_cast<pid_t>(invoked->instance_pid());
  // The connections swiftd B brokered for that worker.
  const int64_t worker_pid = registered->worker_pid();
  auto worker_connections = [&] {
    int count = 0;
    for (const auto& connection : b_.swiftd->broker()->Connections()) {
      count += connection.client_pid == worker_pid ? 1 : 0;
    }
    return count;
  };
  EXPECT_GT(worker_connections(), 0);

  auto stopped = client_->UnregisterFunction("short_lived");
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->worker_pid(), registered->worker_pid());
  // The worker and its instances are gone (reaped: no zombie either).
  EXPECT_NE(kill(static_cast<pid_t>(registered->worker_pid()), 0), 0);
  for (int i = 0; i < 50 && kill(instance, 0) == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_NE(kill(instance, 0), 0) << "instance " << instance << " lives on";
  // Its brokered connections were closed with it.
  for (int i = 0; i < 50 && worker_connections() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(worker_connections(), 0);
  EXPECT_EQ(InvokeFunction("short_lived", "echo:x", v1::InvokeRequest::FORK)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->UnregisterFunction("short_lived").status().code(),
            absl::StatusCode::kNotFound);
  // "f" is untouched.
  auto other = Invoke("echo:still-here", v1::InvokeRequest::FORK);
  ASSERT_TRUE(other.ok()) << other.status();
}

TEST_F(InvokeRdmaTest, InvocationsGoStraightToTheWorkerAndAreCounted) {
  for (int i = 0; i < 5; ++i) {
    auto invoked = Invoke(absl::StrCat("echo:", i),
                          i % 2 == 0 ? v1::InvokeRequest::FORK
                                     : v1::InvokeRequest::WARM);
    ASSERT_TRUE(invoked.ok()) << invoked.status();
    EXPECT_EQ(invoked->result(), std::to_string(i));
  }
  // swiftd saw none of them; the worker reports them.
  v1::WorkerInfo info;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto workers = client_->ListWorkers();
    ASSERT_TRUE(workers.ok()) << workers.status();
    info = workers->workers(0);
    if (info.invocations() == 5) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(info.invocations(), 5u);
  EXPECT_EQ(info.failures(), 0u);
}

TEST_F(InvokeRdmaTest, AKilledWorkerIsReportedNotWaitedFor) {
  ASSERT_TRUE(Invoke("echo:before", v1::InvokeRequest::FORK).ok());
  ASSERT_EQ(kill(static_cast<pid_t>(worker_pid_), SIGKILL), 0);
  // The idle channel to it is dead: the client finds out and asks swiftd,
  // which knows the worker has exited.
  absl::Status status;
  for (int attempt = 0; attempt < 50; ++attempt) {
    status = Invoke("echo:after", v1::InvokeRequest::FORK).status();
    if (absl::IsUnavailable(status) &&
        absl::StrContains(status.message(), "register the function again")) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(
      absl::StrContains(status.message(), "register the function again"))
      << status;
}

TEST_F(InvokeRdmaTest, UnknownFunctionIsNotFound) {
  v1::InvokeRequest request;
  request.set_function("nope");
  EXPECT_EQ(client_->Invoke(request).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(InvokeRdmaTest, AThousandForksLeakNoProcessFdOrQp) {
  // A first round settles the worker's steady state.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Invoke(absl::StrCat("echo:", i), v1::InvokeRequest::FORK).ok());
  }
  const pid_t worker = static_cast<pid_t>(worker_pid_);
  // The worker holds one socket per instance (a spare may come and go):
  // what must not grow is the rest.
  const int other_fds_before = CountFds(worker) - CountChildren(worker);
  for (int i = 0; i < 1000; ++i) {
    auto invoked = Invoke(absl::StrCat("echo:", i), v1::InvokeRequest::FORK);
    ASSERT_TRUE(invoked.ok()) << "invocation " << i << ": " << invoked.status();
    ASSERT_EQ(invoked->result(), std::to_string(i));
  }
  // At most max_instances children; the worker's other fds did not grow
  // (but for one more pooled fast-path connection: its loop and its
  // maintenance thread may connect at once); swiftd B holds only the
  // worker's prepared and live instances' connections. A retired instance
  // is reaped and its connections closed just after the last reply: wait
  // for that, not for a leak, which would never settle.
  int children = 0, other_fds = 0;
  size_t connections = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    children = CountChildren(worker);
    other_fds = CountFds(worker) - children;
    connections = b_.swiftd->broker()->Connections().size();
    if (children <= 4 && other_fds <= other_fds_before + 1 &&
        connections <= 2u + 4u) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_LE(children, 4);
  EXPECT_LE(other_fds, other_fds_before + 1);
  EXPECT_LE(connections, 2u + 4u);
}

}  // namespace
}  // namespace swift
