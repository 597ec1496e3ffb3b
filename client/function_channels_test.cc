// FunctionChannels against a fake swiftd whose function channels are
// served by the worker's real edge (daemon/worker DirectChannels): the
// contract between libswift and a function's worker on the host, no device
// and no daemon. Answers, the worker's errors named after the function,
// channel reuse, a late answer to another call skipped, a worker that
// stopped since (its idle channel replaced once), a worker that dies during
// an invocation, swiftd's refusal.
#include "client/function_channels.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "client/testing/fake_swiftd.h"
#include "common/connection_server.h"
#include "common/seqpacket_socket.h"
#include "common/version.h"
#include "daemon/worker/direct_channels.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"

namespace swift {
namespace {

// A fake swiftd (on the project's server skeleton) that hands each
// FUNCTION channel for "f" to a fake worker serving it through
// DirectChannels. The worker answers "echo:X" with X, "fail" with the
// function's failure, "late:X" with an answer to another call then X, and
// dies on "exit".
class FakeSwiftd {
 public:
  FakeSwiftd() {
    listener_ = ListenInTempDir(&dir_, &path_);
    ConnectionServer::Options options;
    options.name = "fake swiftd";
    options.fd_reserve = 0;
    server_ = ConnectionServer::Start(listener_->fd(), options,
                                      [this](UniqueFd connection, uint64_t) {
                                        Serve(std::move(connection));
                                      });
  }

  ~FakeSwiftd() {
    server_->Shutdown();
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }

  // The worker stops: every channel to it ends.
  void StopWorker() {
    absl::MutexLock lock(&mu_);
    for (int fd : live_) {
      shutdown(fd, SHUT_RDWR);
    }
  }

  const std::string& path() const { return path_; }

  int channels_opened() {
    absl::MutexLock lock(&mu_);
    return opened_;
  }

  std::vector<worker::v1::InvokeRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  // swiftd's part: the hello; then the worker's.
  void Serve(UniqueFd fd) {
    SeqpacketSocket connection(std::move(fd));
    absl::StatusOr<SeqpacketSocket::Message> message = connection.Receive();
    v1::FastRequest hello;
    if (!message.ok() || !hello.ParseFromString(message->data)) return;
    v1::FastResponse answer;
    answer.set_call_id(hello.call_id());
    if (hello.hello().channel() != v1::FastHello::FUNCTION ||
        hello.hello().function() != "f") {
      answer.set_code(static_cast<int>(absl::StatusCode::kNotFound));
      answer.set_message("no function '" + hello.hello().function() +
                         "' is registered");
      (void)connection.Send(answer.SerializeAsString());
      return;
    }
    answer.mutable_hello()->set_api_version(kControlApiVersion);
    if (!connection.Send(answer.SerializeAsString()).ok()) return;
    {
      absl::MutexLock lock(&mu_);
      ++opened_;
      live_.insert(connection.fd());
    }
    ServeAsWorker(connection);
    absl::MutexLock lock(&mu_);
    live_.erase(connection.fd());
  }

  void ServeAsWorker(SeqpacketSocket& connection) {
    DirectChannels channels;
    const uint64_t id = channels.Open(worker::v1::OpenChannel(),
                                      UniqueFd(dup(connection.fd())));
    while (true) {
      std::optional<worker::v1::InvokeRequest> request = channels.Receive(id);
      if (!request.has_value()) {
        if (channels.size() == 0) return;  // The client closed it.
        continue;
      }
      {
        absl::MutexLock lock(&mu_);
        requests_.push_back(*request);
      }
      if (request->payload() == "exit") {
        return;  // The channel closes with the worker.
      }
      if (request->payload().rfind("late:", 0) == 0) {
        // A late answer to an earlier call comes first.
        worker::v1::InvokeReply stale;
        stale.set_id(request->id() + 1000);
        stale.set_result("stale");
        channels.Reply(id, stale);
      }
      worker::v1::InvokeReply reply;
      reply.set_id(request->id());
      reply.set_served_by(request->mode());
      reply.set_instance_pid(4242);
      reply.set_worker_us(17);
      if (request->payload() == "fail") {
        reply.set_code(static_cast<int>(absl::StatusCode::kAborted));
        reply.set_message("the function returned 7");
      } else {
        reply.set_result(request->payload().substr(5));
      }
      channels.Reply(id, reply);
    }
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<SeqpacketListener> listener_;
  absl::Mutex mu_;
  int opened_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<int> live_ ABSL_GUARDED_BY(mu_);
  std::vector<worker::v1::InvokeRequest> requests_ ABSL_GUARDED_BY(mu_);
  // Declared last: shut down (its threads joined) first.
  std::unique_ptr<ConnectionServer> server_;
};

v1::InvokeRequest Invocation(const std::string& payload,
                             v1::InvokeRequest::Mode mode,
                             const std::string& function = "f") {
  v1::InvokeRequest request;
  request.set_function(function);
  request.set_payload(payload);
  request.set_mode(mode);
  return request;
}

TEST(FunctionChannelsTest, InvocationsGoToTheWorkerOnOneReusedChannel) {
  FakeSwiftd swiftd;
  FunctionChannels channels(swiftd.path(), "test");
  absl::StatusOr<v1::InvokeResponse> first =
      channels.Invoke(Invocation("echo:one", v1::InvokeRequest::FORK));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->result(), "one");
  EXPECT_EQ(first->served_by(), v1::InvokeRequest::FORK);
  EXPECT_EQ(first->instance_pid(), 4242);
  EXPECT_EQ(first->worker_us(), 17u);
  absl::StatusOr<v1::InvokeResponse> second =
      channels.Invoke(Invocation("echo:two", v1::InvokeRequest::WARM));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->result(), "two");
  EXPECT_EQ(second->served_by(), v1::InvokeRequest::WARM);
  EXPECT_EQ(swiftd.channels_opened(), 1);
  // The worker got the timeout the client waits for (the default here).
  ASSERT_EQ(swiftd.requests().size(), 2u);
  EXPECT_EQ(swiftd.requests()[0].timeout_ms(), 10000u);
  EXPECT_NE(swiftd.requests()[0].id(), swiftd.requests()[1].id());
}

TEST(FunctionChannelsTest, ALateAnswerToAnotherCallIsSkipped) {
  FakeSwiftd swiftd;
  FunctionChannels channels(swiftd.path(), "test");
  absl::StatusOr<v1::InvokeResponse> answer =
      channels.Invoke(Invocation("late:mine", v1::InvokeRequest::WARM));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->result(), "mine");
}

TEST(FunctionChannelsTest, TheWorkersErrorNamesTheFunction) {
  FakeSwiftd swiftd;
  FunctionChannels channels(swiftd.path(), "test");
  absl::StatusOr<v1::InvokeResponse> failed =
      channels.Invoke(Invocation("fail", v1::InvokeRequest::FORK));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(failed.status().message(), "function 'f': the function returned 7");
  // The channel stays usable after an error.
  EXPECT_TRUE(
      channels.Invoke(Invocation("echo:x", v1::InvokeRequest::FORK)).ok());
  EXPECT_EQ(swiftd.channels_opened(), 1);
}

TEST(FunctionChannelsTest, AnIdleChannelToAStoppedWorkerIsReplacedOnce) {
  FakeSwiftd swiftd;
  FunctionChannels channels(swiftd.path(), "test");
  ASSERT_TRUE(
      channels.Invoke(Invocation("echo:a", v1::InvokeRequest::FORK)).ok());
  swiftd.StopWorker();
  absl::StatusOr<v1::InvokeResponse> after =
      channels.Invoke(Invocation("echo:b", v1::InvokeRequest::FORK));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->result(), "b");
  EXPECT_EQ(swiftd.channels_opened(), 2);
}

TEST(FunctionChannelsTest, AWorkerThatDiesDuringTheInvocationIsUnavailable) {
  FakeSwiftd swiftd;
  FunctionChannels channels(swiftd.path(), "test");
  absl::StatusOr<v1::InvokeResponse> died =
      channels.Invoke(Invocation("exit", v1::InvokeRequest::FORK));
  EXPECT_EQ(died.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(died.status().message(),
                                "exited during the invocation"))
      << died.status();
  // Not retried: the function may have run.
  EXPECT_EQ(swiftd.requests().size(), 1u);
}

TEST(FunctionChannelsTest, SwiftdsRefusalComesBackAsIs) {
  FakeSwiftd swiftd;
  FunctionChannels channels(swiftd.path(), "test");
  absl::StatusOr<v1::InvokeResponse> refused =
      channels.Invoke(Invocation("echo:x", v1::InvokeRequest::FORK, "nope"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "nope"));
}

}  // namespace
}  // namespace swift
