// The swiftd binary as systemd runs it: READY=1 on $NOTIFY_SOCKET once
// serving, clean exit with the socket removed on SIGTERM, a clear refusal
// when another swiftd holds the socket, and recovery from a stale socket.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "common/testing/unix_socket_testing.h"
#include "common/unique_fd.h"
#include "swift/client.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::RunfilePath;
using ::swift::testing::TempDir;

// A started swiftd process; killed (SIGKILL) if the test did not stop it.
class SwiftdProcess {
 public:
  SwiftdProcess(const std::string& socket, const std::string& notify_socket,
                const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      setenv("NOTIFY_SOCKET", notify_socket.c_str(), 1);
      const std::string binary = RunfilePath("daemon/swiftd");
      const std::string flag = "--socket=" + socket;
      freopen(log.c_str(), "w", stderr);
      execl(binary.c_str(), binary.c_str(), flag.c_str(), nullptr);
      _exit(127);
    }
  }
  ~SwiftdProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Sends `signal_number` and returns the exit status (-1 if killed).
  int StopWith(int signal_number) {
    kill(pid_, signal_number);
    return Wait();
  }

  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

UniqueFd BindDatagram(const std::string& path) {
  UniqueFd fd = testing::BindUnixSocket(path, SOCK_DGRAM, /*listen_too=*/false);
  timeval timeout = {30, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

std::string ReceiveNotification(const UniqueFd& fd) {
  char buffer[512] = {};
  ssize_t size = recv(fd.get(), buffer, sizeof(buffer) - 1, 0);
  return size > 0 ? std::string(buffer, size) : "";
}

TEST(SwiftdLifecycleTest, NotifiesReadyServesAndStopsCleanlyOnSigterm) {
  TempDir dir;
  const std::string socket = dir.path() + "/swiftd.sock";
  UniqueFd notify = BindDatagram(dir.path() + "/notify");
  SwiftdProcess swiftd(socket, dir.path() + "/notify", dir.path() + "/log");

  const std::string ready = ReceiveNotification(notify);
  ASSERT_TRUE(absl::StartsWith(ready, "READY=1")) << "got: '" << ready << "'";
  EXPECT_TRUE(absl::StrContains(ready, "STATUS=Serving on " + socket));

  ClientOptions options;
  options.socket_path = socket;
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->Ping(1).ok());
  client->reset();

  EXPECT_EQ(swiftd.StopWith(SIGTERM), 0);
  EXPECT_EQ(ReceiveNotification(notify), "STOPPING=1");
  EXPECT_NE(access(socket.c_str(), F_OK), 0) << "socket left behind";
  const std::string log = swift::testing::ReadWholeFile(dir.path() + "/log");
  EXPECT_TRUE(absl::StrContains(log, "swiftd stopped")) << log;
}

TEST(SwiftdLifecycleTest, SecondSwiftdRefusesAndFirstKeepsServing) {
  TempDir dir;
  const std::string socket = dir.path() + "/swiftd.sock";
  UniqueFd notify = BindDatagram(dir.path() + "/notify");
  SwiftdProcess first(socket, dir.path() + "/notify", dir.path() + "/log1");
  ASSERT_TRUE(absl::StartsWith(ReceiveNotification(notify), "READY=1"));

  SwiftdProcess second(socket, dir.path() + "/notify", dir.path() + "/log2");
  EXPECT_EQ(second.Wait(), 1);
  const std::string log = swift::testing::ReadWholeFile(dir.path() + "/log2");
  EXPECT_TRUE(absl::StrContains(log, "another process (a running swiftd?)"))
      << log;

  ClientOptions options;
  options.socket_path = socket;
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->Ping(2).ok());
  client->reset();
  EXPECT_EQ(first.StopWith(SIGINT), 0);
}

TEST(SwiftdLifecycleTest, RestartsOverTheStaleSocketOfAKilledSwiftd) {
  TempDir dir;
  const std::string socket = dir.path() + "/swiftd.sock";
  UniqueFd notify = BindDatagram(dir.path() + "/notify");
  {
    SwiftdProcess crashed(socket, dir.path() + "/notify", dir.path() + "/log1");
    ASSERT_TRUE(absl::StartsWith(ReceiveNotification(notify), "READY=1"));
    EXPECT_EQ(crashed.StopWith(SIGKILL), -1);
  }
  ASSERT_EQ(access(socket.c_str(), F_OK), 0) << "expected a stale socket";
  SwiftdProcess restarted(socket, dir.path() + "/notify", dir.path() + "/log2");
  ASSERT_TRUE(absl::StartsWith(ReceiveNotification(notify), "READY=1"));
  const std::string log = swift::testing::ReadWholeFile(dir.path() + "/log2");
  EXPECT_TRUE(absl::StrContains(log, "Removing stale socket")) << log;
  EXPECT_EQ(restarted.StopWith(SIGTERM), 0);
}

}  // namespace
}  // namespace swift
