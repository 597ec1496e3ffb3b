// InstanceProcesses on the host: a forked child talks over its socket;
// Reap() kills and waits, naming how it ended; Kill() leaves the end to
// the socket; the fds the child must not keep are closed in it; the
// destructor leaves no child behind.
#include "daemon/worker/instance_processes.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"

namespace swift {
namespace {

// Answers each message with "echo:" and it; "exit" ends with status 3.
void Echo(SeqpacketSocket socket, const ConnectionSet&) {
  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> message = socket.Receive();
    if (!message.ok()) {
      _exit(0);
    }
    if (message->data == "exit") {
      _exit(3);
    }
    (void)socket.Send("echo:" + message->data);
  }
}

TEST(InstanceProcessesTest, AChildTalksAndIsReaped) {
  InstanceProcesses children;
  ConnectionSet set;
  absl::StatusOr<uint64_t> id = children.Fork(set, {}, Echo);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_GT(children.pid(*id), 0);
  EXPECT_EQ(children.forks(), 1u);
  ASSERT_TRUE(children.Send(*id, "hi").ok());
  absl::StatusOr<SeqpacketSocket::Message> reply = children.Receive(*id);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->data, "echo:hi");

  ASSERT_TRUE(children.Send(*id, "exit").ok());
  EXPECT_FALSE(children.Receive(*id).ok()) << "its end is EOF";
  InstanceProcesses::Ended ended = children.Reap(*id);
  EXPECT_EQ(DescribeExit(ended.wait_status), "exited with status 3");
  EXPECT_EQ(children.pid(*id), -1);
  EXPECT_TRUE(children.Fds().empty());
  EXPECT_FALSE(children.Send(*id, "x").ok());
}

TEST(InstanceProcessesTest, AKilledChildsEndShowsOnItsSocket) {
  InstanceProcesses children;
  ConnectionSet set;
  absl::StatusOr<uint64_t> id = children.Fork(set, {}, Echo);
  ASSERT_TRUE(id.ok()) << id.status();
  children.Kill(*id);
  EXPECT_FALSE(children.Receive(*id).ok());
  InstanceProcesses::Ended ended = children.Reap(*id);
  EXPECT_TRUE(
      absl::StartsWith(DescribeExit(ended.wait_status), "killed by signal 9"))
      << DescribeExit(ended.wait_status);
}

TEST(InstanceProcessesTest, ChildrenKeepNoForeignFdNorEachOthersSockets) {
  InstanceProcesses children;
  // A socket pair standing for swiftd's: the child must close its end.
  auto swiftd = SeqpacketSocket::Pair();
  ASSERT_TRUE(swiftd.ok());
  ConnectionSet set;
  absl::StatusOr<uint64_t> first = children.Fork(set, {}, Echo);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<uint64_t> second = children.Fork(
      set, {swiftd->first.fd()},
      [first_fd = children.Fds()[0].second, foreign = swiftd->first.fd()](
          SeqpacketSocket socket, const ConnectionSet&) {
        // fcntl() fails on a closed fd.
        const bool closed =
            fcntl(first_fd, F_GETFD) < 0 && fcntl(foreign, F_GETFD) < 0;
        (void)socket.Send(closed ? "closed" : "open");
        _exit(0);
      });
  ASSERT_TRUE(second.ok());
  absl::StatusOr<SeqpacketSocket::Message> said = children.Receive(*second);
  ASSERT_TRUE(said.ok()) << said.status();
  EXPECT_EQ(said->data, "closed");
  EXPECT_EQ(children.Fds().size(), 2u);
}

TEST(InstanceProcessesTest, TheDestructorKillsAndReapsEveryChild) {
  pid_t pid = -1;
  {
    InstanceProcesses children;
    ConnectionSet set;
    absl::StatusOr<uint64_t> id = children.Fork(set, {}, Echo);
    ASSERT_TRUE(id.ok());
    pid = children.pid(*id);
  }
  // Reaped: not even a zombie is left to wait for.
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace swift
