// The swiftd binary as systemd runs it: READY=1 on $NOTIFY_SOCKET once
// serving, clean exit with the socket removed on SIGTERM, a clear refusal
// when another swiftd holds the socket, recovery from a stale socket, and
// its preload hints published only once it serves.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/testing/unix_socket_testing.h"
#include "common/unique_fd.h"
#include "swift/client.h"
#include "tests/swiftd_process.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::RunfilePath;
using ::swift::testing::SwiftdProcess;
using ::swift::testing::TempDir;

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

// Two swiftds started at the same moment on one socket: one serves, the
// other refuses, and the loser never removes the winner's socket (it did
// when both passed the liveness probe before either had bound: gRPC
// unlinks an existing socket file before binding).
TEST(SwiftdLifecycleTest, SwiftdsStartedAtOnceLeaveExactlyOneServing) {
  for (int trial = 0; trial < 7; ++trial) {
    TempDir dir;
    const std::string socket = dir.path() + "/swiftd.sock";
    UniqueFd notify = BindDatagram(dir.path() + "/notify");
    SwiftdProcess a(socket, dir.path() + "/notify", dir.path() + "/log1");
    SwiftdProcess b(socket, dir.path() + "/notify", dir.path() + "/log2");
    // The loser's "STATUS=Failed to start" may come first.
    std::string notification = ReceiveNotification(notify);
    if (absl::StartsWith(notification, "STATUS=Failed")) {
      notification = ReceiveNotification(notify);
    }
    ASSERT_TRUE(absl::StartsWith(notification, "READY=1"))
        << "trial " << trial << ": " << notification;
    // The loser exits 1 within its start-up; give it time to (wrongly)
    // clean up before looking at the socket.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::string log1 =
        swift::testing::ReadWholeFile(dir.path() + "/log1");
    const std::string log2 =
        swift::testing::ReadWholeFile(dir.path() + "/log2");
    const bool a_refused = absl::StrContains(log1, "cannot start");
    const bool b_refused = absl::StrContains(log2, "cannot start");
    EXPECT_NE(a_refused, b_refused) << "trial " << trial << "\n"
                                    << log1 << "\n"
                                    << log2;
    ASSERT_EQ(access(socket.c_str(), F_OK), 0)
        << "trial " << trial << ": the serving swiftd lost its socket";
    ClientOptions options;
    options.socket_path = socket;
    auto client = Client::Connect(options);
    ASSERT_TRUE(client.ok()) << "trial " << trial << ": " << client.status();
    EXPECT_TRUE((*client)->Ping(trial).ok());
    client->reset();
    EXPECT_EQ((a_refused ? b : a).StopWith(SIGTERM), 0);
    EXPECT_EQ((a_refused ? a : b).Wait(), 1);
  }
}

// A stop request is honoured while start-up is stuck: here a FIFO in the
// state directory, which nobody writes.
TEST(SwiftdLifecycleTest, SigtermStopsASwiftdStuckStartingUp) {
  TempDir dir;
  const std::string state = dir.path() + "/state";
  ASSERT_EQ(mkdir(state.c_str(), 0700), 0);
  ASSERT_EQ(mkfifo((state + "/trap").c_str(), 0600), 0);
  UniqueFd notify = BindDatagram(dir.path() + "/notify");
  SwiftdProcess swiftd(dir.path() + "/swiftd.sock", dir.path() + "/notify",
                       dir.path() + "/log",
                       {"--state_dir=" + state, "--worker_binary=/bin/false"});
  // Serving or stuck: either way SIGTERM must end it promptly.
  absl::SleepFor(absl::Seconds(1));
  swiftd.Signal(SIGTERM);
  ASSERT_TRUE(swiftd.WaitFor(absl::Seconds(20)))
      << "swiftd ignored SIGTERM: "
      << swift::testing::ReadWholeFile(dir.path() + "/log");
}

// Whether the fast path at `path` takes a connection.
bool FastPathServes(const std::string& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                 sizeof(address)) == 0;
}

// A process that finds the hints (libswift's cold start, the preload)
// calls the fast path at once: found by the guest's preload test, whose
// clients started in the moment between the two and failed.
TEST(SwiftdLifecycleTest, ItsHintsAppearOnlyOnceItsFastPathServes) {
  for (int start = 0; start < 3; ++start) {
    TempDir dir;
    const std::string socket = dir.path() + "/swiftd.sock";
    const std::string hints = dir.path() + "/preload.hints";
    UniqueFd notify = BindDatagram(dir.path() + "/notify");
    SwiftdProcess swiftd(socket, dir.path() + "/notify", dir.path() + "/log");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (access(hints.c_str(), F_OK) != 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Microseconds(100));
    }
    ASSERT_EQ(access(hints.c_str(), F_OK), 0)
        << swift::testing::ReadWholeFile(dir.path() + "/log");
    EXPECT_TRUE(FastPathServes(dir.path() + "/swiftd.fast.sock"));
    // (A stop before READY=1 ends a starting swiftd by the signal.)
    ASSERT_TRUE(absl::StartsWith(ReceiveNotification(notify), "READY=1"));
    EXPECT_EQ(swiftd.StopWith(SIGTERM), 0);
    EXPECT_NE(access(hints.c_str(), F_OK), 0) << "hints left behind";
  }
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
