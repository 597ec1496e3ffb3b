// Host tests for the fast path's fd-carrying answers (issue 11: leases are
// memfds sent with the answer) and its attach/detach notices: the fds
// arrive, and the server's copies are closed on every path, the send that
// fails included.
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/seqpacket_socket.h"
#include "common/testing/eventually.h"
#include "common/version.h"
#include "daemon/transport/fast_path_server.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;

int OpenFdCount() {
  int count = 0;
  DIR* fds = opendir("/proc/self/fd");
  while (const dirent* entry = readdir(fds)) {
    count += entry->d_name[0] != '.';
  }
  closedir(fds);
  return count - 1;  // The directory's own fd.
}

v1::FastRequest Hello(v1::FastHello::Channel channel) {
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_client_name("fds_test");
  hello.mutable_hello()->set_channel(channel);
  return hello;
}

class FastPathFdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/swift-fast-fds-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    FastPathServer::Handlers handlers;
    handlers.call = [](const FastPathCaller&, const v1::FastRequest&) {
      return v1::FastResponse();  // Never used: call_with_fds is set.
    };
    handlers.call_with_fds = [this](const FastPathCaller&,
                                    const v1::FastRequest& request,
                                    std::vector<UniqueFd>* fds) {
      int pipe_fds[2];
      EXPECT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
      EXPECT_EQ(write(pipe_fds[1], "lease", 5), 5);
      close(pipe_fds[1]);
      fds->emplace_back(pipe_fds[0]);
      if (request.ping().sequence() == 99) {
        // The client is gone before the answer: the send fails.
        shutdown(client_fd_, SHUT_RDWR);
      }
      v1::FastResponse response;
      response.mutable_ping()->set_sequence(request.ping().sequence());
      return response;
    };
    handlers.service = [](SeqpacketSocket channel, const FastPathCaller&) {
      (void)channel.Receive();
    };
    handlers.greeted = [this](const FastPathCaller&,
                              v1::FastHello::Channel kind) {
      absl::MutexLock lock(&mu_);
      events_.push_back(std::string("+") + v1::FastHello::Channel_Name(kind));
    };
    handlers.ended = [this](const FastPathCaller&,
                            v1::FastHello::Channel kind) {
      absl::MutexLock lock(&mu_);
      events_.push_back(std::string("-") + v1::FastHello::Channel_Name(kind));
    };
    absl::StatusOr<std::unique_ptr<FastPathServer>> server =
        FastPathServer::Start(dir_ + "/fast.sock", 0600, std::move(handlers));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    server_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  SeqpacketSocket Greeted(v1::FastHello::Channel kind) {
    absl::StatusOr<SeqpacketSocket> socket =
        SeqpacketSocket::Connect(dir_ + "/fast.sock");
    EXPECT_TRUE(socket.ok());
    EXPECT_TRUE(socket->Send(Hello(kind).SerializeAsString()).ok());
    EXPECT_TRUE(socket->Receive().ok());
    return *std::move(socket);
  }

  std::vector<std::string> Events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

  std::string dir_;
  std::unique_ptr<FastPathServer> server_;
  int client_fd_ = -1;
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

TEST_F(FastPathFdsTest, AnswerCarriesTheFdAndTheServerClosesItsCopy) {
  SeqpacketSocket client = Greeted(v1::FastHello::CALLS);
  const int before = OpenFdCount();
  v1::FastRequest request;
  request.set_call_id(1);
  request.mutable_ping()->set_sequence(5);
  ASSERT_TRUE(client.Send(request.SerializeAsString()).ok());
  absl::StatusOr<SeqpacketSocket::Message> answer = client.Receive();
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->fds.size(), 1u);
  char text[8] = {};
  EXPECT_EQ(read(answer->fds[0].get(), text, sizeof(text)), 5);
  EXPECT_EQ(std::string(text), "lease");
  // Only the received fd is new: the server's pipe end is closed (right
  // after its send, which may come after our receive).
  EXPECT_TRUE(Eventually([&] { return OpenFdCount() == before + 1; }))
      << OpenFdCount() << " fds open, " << before << " before";
}

TEST_F(FastPathFdsTest, FdsAreClosedWhenTheAnswerCannotBeSent) {
  SeqpacketSocket client = Greeted(v1::FastHello::CALLS);
  client_fd_ = client.fd();
  const int before = OpenFdCount();
  v1::FastRequest request;
  request.set_call_id(1);
  request.mutable_ping()->set_sequence(99);
  ASSERT_TRUE(client.Send(request.SerializeAsString()).ok());
  // The server's end of the connection and its pipe end are closed.
  EXPECT_TRUE(Eventually([&] { return OpenFdCount() == before - 1; }))
      << OpenFdCount() << " fds open, " << before << " before";
}

TEST_F(FastPathFdsTest, TellsWhenCallsAndServiceConnectionsComeAndGo) {
  {
    SeqpacketSocket calls = Greeted(v1::FastHello::CALLS);
    SeqpacketSocket service = Greeted(v1::FastHello::SERVICE);
    ASSERT_TRUE(Eventually([&] { return Events().size() == 2; }));
  }
  ASSERT_TRUE(Eventually([&] { return Events().size() == 4; }));
  std::vector<std::string> events = Events();
  EXPECT_EQ(events[0], "+CALLS");
  EXPECT_EQ(events[1], "+SERVICE");
  std::sort(events.begin() + 2, events.end());
  EXPECT_EQ(events[2], "-CALLS");
  EXPECT_EQ(events[3], "-SERVICE");
}

}  // namespace
}  // namespace swift
