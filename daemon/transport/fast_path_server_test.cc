// Host tests for FastPathServer's bounds (issue 10 finding 1): connection
// caps in all and per uid (refused with RESOURCE_EXHAUSTED naming the
// flag), a bounded thread count, and the hello deadline, which greeted
// CALLS connections and SERVICE channels do not inherit.
#include "daemon/transport/fast_path_server.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/seqpacket_socket.h"
#include "common/testing/eventually.h"
#include "common/version.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;

int ThreadCount() {
  int count = 0;
  DIR* tasks = opendir("/proc/self/task");
  while (const dirent* entry = readdir(tasks)) {
    count += entry->d_name[0] != '.';
  }
  closedir(tasks);
  return count;
}

// One request and its answer's status (transport errors included).
absl::Status Exchange(SeqpacketSocket& socket, const v1::FastRequest& request,
                      v1::FastResponse* response = nullptr) {
  if (absl::Status sent = socket.Send(request.SerializeAsString());
      !sent.ok()) {
    return sent;
  }
  absl::StatusOr<SeqpacketSocket::Message> message = socket.Receive();
  if (!message.ok()) {
    return message.status();
  }
  v1::FastResponse answer;
  if (!answer.ParseFromString(message->data) ||
      answer.call_id() != request.call_id()) {
    return absl::InternalError("bad answer");
  }
  if (response != nullptr) {
    *response = answer;
  }
  return DecodeStatus(answer);
}

v1::FastRequest Hello(v1::FastHello::Channel channel = v1::FastHello::CALLS) {
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_client_name("fast_path_server_test");
  hello.mutable_hello()->set_channel(channel);
  return hello;
}

v1::FastRequest Ping(uint64_t call_id) {
  v1::FastRequest ping;
  ping.set_call_id(call_id);
  ping.mutable_ping();
  return ping;
}

// A connection that said hello, or the hello's status.
absl::StatusOr<SeqpacketSocket> Greeted(const std::string& path) {
  absl::StatusOr<SeqpacketSocket> socket = SeqpacketSocket::Connect(path);
  if (!socket.ok()) {
    return socket.status();
  }
  if (absl::Status hello = Exchange(*socket, Hello()); !hello.ok()) {
    return hello;
  }
  return socket;
}

class FastPathServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/swift-fast-path-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    chmod(dir_.c_str(), 0755);  // For the test's other uid.
    path_ = dir_ + "/fast.sock";
  }
  void TearDown() override {
    server_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  void StartServer(const FastPathLimits& limits) {
    FastPathServer::Handlers handlers;
    handlers.call = [](const FastPathCaller&, const v1::FastRequest&) {
      v1::FastResponse response;
      response.mutable_ping();
      return response;
    };
    handlers.service = [this](SeqpacketSocket channel, const FastPathCaller&) {
      // Waits for one message, past any deadline the hello had.
      service_received_ = channel.Receive().ok();
      service_done_.Notify();
    };
    absl::StatusOr<std::unique_ptr<FastPathServer>> server =
        FastPathServer::Start(path_, 0666, std::move(handlers), limits);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<FastPathServer> server_;
  std::atomic<bool> service_received_{false};
  absl::Notification service_done_;
};

// 5,000 connections once cost 5,013 threads; under a pids limit 400 made
// swiftd abort. N+10 against a cap of N: N served, 10 refused with an
// answer naming the flag, threads bounded.
TEST_F(FastPathServerTest, RefusesConnectionsOverTheCapNamingTheFlag) {
  constexpr int kCap = 12;
  FastPathLimits limits;
  limits.max_connections = kCap;
  const int threads_before = ThreadCount();
  StartServer(limits);
  std::vector<SeqpacketSocket> served;
  for (int i = 0; i < kCap; ++i) {
    absl::StatusOr<SeqpacketSocket> socket = Greeted(path_);
    ASSERT_TRUE(socket.ok()) << socket.status();
    served.push_back(*std::move(socket));
  }
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<SeqpacketSocket> refused = Greeted(path_);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted)
        << refused.status();
    EXPECT_TRUE(absl::StrContains(refused.status().message(),
                                  "--max_fast_path_connections"))
        << refused.status();
  }
  EXPECT_EQ(server_->connection_count(), kCap);
  EXPECT_EQ(server_->counters().refused_at_cap, 10u);
  EXPECT_LE(ThreadCount(), threads_before + kCap + 3);
  for (int i = 0; i < kCap; ++i) {  // Those served still are.
    ASSERT_TRUE(Exchange(served[i], Ping(i + 1)).ok());
  }
  served.clear();
  ASSERT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
  EXPECT_TRUE(Greeted(path_).ok());
}

// The cap per uid (SO_PEERCRED): another uid's connections beyond it are
// refused; root's are exempt (counted in the total only).
TEST_F(FastPathServerTest, CapsConnectionsPerUidButNotRoot) {
  FastPathLimits limits;
  limits.max_connections_per_uid = 2;
  StartServer(limits);
  std::vector<SeqpacketSocket> roots;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<SeqpacketSocket> socket = Greeted(path_);
    ASSERT_TRUE(socket.ok()) << socket.status();
    roots.push_back(*std::move(socket));
  }
  // A child as nobody: two served, the third refused. Exit codes: 0 as
  // expected, 77 cannot change uid (e.g. in a sandbox), else a failure.
  const pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      _exit(77);
    }
    absl::StatusOr<SeqpacketSocket> first = Greeted(path_);
    absl::StatusOr<SeqpacketSocket> second = Greeted(path_);
    absl::StatusOr<SeqpacketSocket> third = Greeted(path_);
    const bool ok = first.ok() && second.ok() && !third.ok() &&
                    absl::IsResourceExhausted(third.status()) &&
                    absl::StrContains(third.status().message(),
                                      "--max_fast_path_connections_per_uid");
    _exit(ok ? 0 : 1);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    GTEST_SKIP() << "cannot become another uid here";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(server_->counters().refused_at_key_cap, 1u);
}

// A connection that never says hello was held (with its thread) for ever.
TEST_F(FastPathServerTest, ClosesAConnectionThatSaysNoHello) {
  FastPathLimits limits;
  limits.hello_timeout = absl::Milliseconds(300);
  StartServer(limits);
  absl::StatusOr<SeqpacketSocket> silent = SeqpacketSocket::Connect(path_);
  ASSERT_TRUE(silent.ok());
  const timeval give_up = {5, 0};  // Fail, rather than hang, if not closed.
  setsockopt(silent->fd(), SOL_SOCKET, SO_RCVTIMEO, &give_up, sizeof(give_up));
  ASSERT_TRUE(Eventually([&] { return server_->connection_count() == 1; }));
  const absl::Time start = absl::Now();
  absl::StatusOr<SeqpacketSocket::Message> closed = silent->Receive();
  EXPECT_FALSE(closed.ok());  // The server closed it.
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
}

// The deadline is for the hello only: a greeted CALLS connection may stay
// idle, and a SERVICE channel is long-lived.
TEST_F(FastPathServerTest, KeepsGreetedConnectionsPastTheHelloTimeout) {
  FastPathLimits limits;
  limits.hello_timeout = absl::Milliseconds(200);
  StartServer(limits);
  absl::StatusOr<SeqpacketSocket> calls = Greeted(path_);
  ASSERT_TRUE(calls.ok()) << calls.status();
  absl::StatusOr<SeqpacketSocket> service = SeqpacketSocket::Connect(path_);
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE(Exchange(*service, Hello(v1::FastHello::SERVICE)).ok());

  absl::SleepFor(absl::Milliseconds(700));
  EXPECT_TRUE(Exchange(*calls, Ping(7)).ok());
  ASSERT_TRUE(service->Send("still here").ok());
  service_done_.WaitForNotification();
  EXPECT_TRUE(service_received_);
}

}  // namespace
}  // namespace swift
