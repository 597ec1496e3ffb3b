// The serverless fork path on two "hosts" of the Soft-RoCE guest: a sink
// service listens through swiftd A (rxeA); a function registered with
// swiftd B (rxeB) runs in swift_worker instances whose QPs swiftd B
// brokered to the sink. Cold, warm and fork invocations; a crashing,
// hanging, failing and a private-memory function; 1,000 forks.
#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/testing/rdma_test_env.h"
#include "swift/client.h"
#include "swift/session.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::Absolute;
using ::swift::testing::EnvOr;
using ::swift::testing::RunfilePath;
using ::swift::testing::TempDir;

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

class InvokeRdmaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EnvOr("RXE_HOSTS", "") != "2") {
      if (swift::testing::RdmaRequired()) {
        FAIL() << "two hosts needed: run with tools/rxe-vm/run --hosts 2";
      }
      GTEST_SKIP() << "needs the two-host Soft-RoCE guest";
    }
    a_address_ = absl::StrCat(EnvOr("RXE_A_IP", ""), ":", kPeerPort);
    SwiftdOptions a;
    a.socket_path = dir_.path() + "/a.sock";
    a.devices = {EnvOr("RXE_A_DEV", "rxeA")};
    a.peer_address = a_address_;
    auto swiftd_a = SwiftdServer::Start(a);
    ASSERT_TRUE(swiftd_a.ok()) << swiftd_a.status();
    swiftd_a_ = *std::move(swiftd_a);

    SwiftdOptions b;
    b.socket_path = dir_.path() + "/b.sock";
    b.devices = {EnvOr("RXE_B_DEV", "rxeB")};
    b.peer_address = absl::StrCat(EnvOr("RXE_B_IP", ""), ":", kPeerPort);
    b.worker_binary = Absolute(RunfilePath("daemon/worker/swift_worker"));
    auto swiftd_b = SwiftdServer::Start(b);
    ASSERT_TRUE(swiftd_b.ok()) << swiftd_b.status();
    swiftd_b_ = *std::move(swiftd_b);

    // The sink: accepts every connection and keeps it until closed.
    SessionOptions sink_options;
    sink_options.socket_path = a.socket_path;
    sink_options.pool_low = 8;
    sink_options.pool_high = 16;
    auto sink = Session::Create(sink_options);
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = *std::move(sink);
    auto listener = sink_->Listen("sink", 8);
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = *std::move(listener);
    acceptor_ = std::thread([this] {
      while (!stopping_) {
        auto connection = listener_->Accept(absl::Milliseconds(20));
        if (connection.ok()) {
          accepted_.push_back(*std::move(connection));
        }
        accepted_.erase(
            std::remove_if(accepted_.begin(), accepted_.end(),
                           [](const auto& c) { return c->peer_closed(); }),
            accepted_.end());
      }
    });

    ClientOptions client_options;
    client_options.socket_path = b.socket_path;
    client_options.attach = false;
    auto client = Client::Connect(client_options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);

    v1::RegisterFunctionRequest request;
    request.set_name("f");
    request.set_library_path(
        Absolute(RunfilePath("tests/functions/test_function.so")));
    v1::FunctionPeer* peer = request.add_peers();
    peer->set_host(a_address_);
    peer->set_service("sink");
    request.set_max_instances(4);
    request.set_prepared(2);
    auto registered = client_->RegisterFunction(request);
    ASSERT_TRUE(registered.ok()) << registered.status();
    worker_pid_ = registered->worker_pid();
  }

  void TearDown() override {
    stopping_ = true;
    if (acceptor_.joinable()) {
      acceptor_.join();
    }
    client_.reset();
    if (swiftd_b_) {
      swiftd_b_->Shutdown(absl::Seconds(1));
    }
    accepted_.clear();
    listener_.reset();
    sink_.reset();
  }

  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& payload,
                                            v1::InvokeRequest::Mode mode,
                                            uint32_t timeout_ms = 10000) {
    v1::InvokeRequest request;
    request.set_function("f");
    request.set_payload(payload);
    request.set_mode(mode);
    request.set_timeout_ms(timeout_ms);
    return client_->Invoke(request);
  }

  // What the sink's shared buffer holds at offset 0.
  std::string SinkBytes(size_t length) {
    // Every sink connection advertises the sink session's one buffer.
    for (int i = 0; i < 200 && accepted_.empty(); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (accepted_.empty()) {
      return "";
    }
    return std::string(reinterpret_cast<char*>(accepted_.front()->buffer()),
                       length);
  }

  TempDir dir_;
  std::string a_address_;
  std::unique_ptr<SwiftdServer> swiftd_a_;
  std::unique_ptr<SwiftdServer> swiftd_b_;
  std::unique_ptr<Session> sink_;
  std::unique_ptr<Listener> listener_;
  std::vector<std::unique_ptr<Connection>> accepted_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::unique_ptr<Client> client_;
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
  const int fds_before = CountFds(static_cast<pid_t>(worker_pid_));
  for (int i = 0; i < 1000; ++i) {
    auto invoked = Invoke(absl::StrCat("echo:", i), v1::InvokeRequest::FORK);
    ASSERT_TRUE(invoked.ok()) << "invocation " << i << ": " << invoked.status();
    ASSERT_EQ(invoked->result(), std::to_string(i));
  }
  // At most max_instances children; the worker's fds did not grow; swiftd B
  // holds only the worker's prepared and live instances' connections.
  EXPECT_LE(CountChildren(static_cast<pid_t>(worker_pid_)), 4);
  EXPECT_LE(CountFds(static_cast<pid_t>(worker_pid_)), fds_before + 2);
  EXPECT_LE(swiftd_b_->broker()->Connections().size(), 2u + 4u);
}

}  // namespace
}  // namespace swift
