#include "common/seqpacket_socket.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "common/unix_socket.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(SeqpacketSocketTest, KeepsMessageBoundaries) {
  auto pair = SeqpacketSocket::Pair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  auto& [a, b] = *pair;
  ASSERT_TRUE(a.Send("first").ok());
  ASSERT_TRUE(a.Send(std::string(1000, 'x')).ok());
  auto first = b.Receive();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->data, "first");
  auto second = b.Receive();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->data, std::string(1000, 'x'));
}

TEST(SeqpacketSocketTest, PassesFileDescriptorsThatStillWork) {
  auto pair = SeqpacketSocket::Pair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  auto& [a, b] = *pair;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  ASSERT_TRUE(a.Send("here is a pipe", {pipe_fds[1]}).ok());
  close(pipe_fds[1]);

  auto message = b.Receive();
  ASSERT_TRUE(message.ok()) << message.status();
  ASSERT_EQ(message->fds.size(), 1u);
  // The received fd is close-on-exec and writes into the same pipe.
  EXPECT_EQ(fcntl(message->fds[0].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ASSERT_EQ(write(message->fds[0].get(), "ok", 2), 2);
  char buffer[2];
  ASSERT_EQ(read(pipe_fds[0], buffer, 2), 2);
  EXPECT_EQ(std::string(buffer, 2), "ok");
  close(pipe_fds[0]);
}

TEST(SeqpacketSocketTest, ClosedPeerIsUnavailable) {
  auto pair = SeqpacketSocket::Pair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  SeqpacketSocket b = std::move(pair->second);
  { SeqpacketSocket a = std::move(pair->first); }
  EXPECT_EQ(b.Receive().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(b.Send("x").code(), absl::StatusCode::kUnavailable);
}

// A peer that answers and closes before reading what we sent (swiftd's
// refusal of a connection it cannot serve, raced by the client's hello):
// the kernel reports ECONNRESET first, yet the answer is still queued.
TEST(SeqpacketSocketTest, ReadsWhatAPeerSentBeforeClosingOnUnreadMessages) {
  auto pair = SeqpacketSocket::Pair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  SeqpacketSocket client = std::move(pair->first);
  {
    SeqpacketSocket server = std::move(pair->second);
    ASSERT_TRUE(server.Send("refused").ok());
    ASSERT_TRUE(client.Send("hello").ok());  // Never read.
  }
  absl::StatusOr<SeqpacketSocket::Message> answer = client.Receive();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->data, "refused");
  EXPECT_EQ(client.Receive().status().code(), absl::StatusCode::kUnavailable);
}

TEST(SeqpacketSocketTest, RefusesOversizedMessages) {
  auto pair = SeqpacketSocket::Pair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ(pair->first.Send(std::string(kMaxSeqpacketMessage + 1, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SeqpacketListenerTest, AcceptsConnectionsWithTheRequestedMode) {
  char dir[] = "/tmp/swift-seq-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/fast.sock";
  EXPECT_EQ(SeqpacketSocket::Connect(path).status().code(),
            absl::StatusCode::kNotFound);
  auto listener = SeqpacketListener::Listen(path, 0660);
  ASSERT_TRUE(listener.ok()) << listener.status();
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);

  std::thread server([&listener] {
    auto connection = listener->Accept();
    ASSERT_TRUE(connection.ok()) << connection.status();
    auto request = connection->Receive();
    ASSERT_TRUE(request.ok());
    ASSERT_TRUE(connection->Send("re: " + request->data).ok());
  });
  auto client = SeqpacketSocket::Connect(path);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client->Send("hello").ok());
  auto reply = client->Receive();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->data, "re: hello");
  server.join();

  // Shutdown() wakes a blocked Accept().
  std::thread waiter([&listener] { EXPECT_FALSE(listener->Accept().ok()); });
  usleep(50000);
  listener->Shutdown();
  waiter.join();
  unlink(path.c_str());
  rmdir(dir);
}

TEST(FastPathSocketPathTest, SitsBesideTheControlSocket) {
  EXPECT_EQ(FastPathSocketPath("/run/swift/swiftd.sock"),
            "/run/swift/swiftd.fast.sock");
  EXPECT_EQ(FastPathSocketPath("/tmp/x"), "/tmp/x.fast.sock");
}

}  // namespace
}  // namespace swift
