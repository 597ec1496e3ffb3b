// ColdInstances on a host without RDMA (sets without connections): a
// child forked per COLD request loads the library it names and answers
// once (ServeColdInstance()), a library that cannot load is reported as a
// fresh cold worker reports it, and the template kills a child past its
// timeout and reports one that crashed; every child is reaped and its set
// retired; nothing starts when connecting fails.
#include "daemon/worker/cold_instances.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "daemon/worker/cold_child.h"
#include "daemon/worker/fork/provider_doorbell.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

// A data dependency, from the test's working directory (its runfiles).
std::string Runfile(const std::string& path) {
  char cwd[4096];
  return std::string(getcwd(cwd, sizeof(cwd))) + "/" + path;
}

class ColdInstancesTest : public ::testing::Test {
 protected:
  // A template whose children run ServeColdInstance() (or `body`).
  std::unique_ptr<ColdInstances> Make(ColdInstances::Body body = nullptr,
                                      absl::Status connect = absl::OkStatus()) {
    const pid_t self = getpid();
    if (!body) {
      body = [self](SeqpacketSocket socket, const ConnectionSet& set,
                    const worker::v1::InvokeRequest& request) {
        ServeColdInstance(ProviderDoorbell(), self, std::move(socket), set, {},
                          request);
      };
    }
    return std::make_unique<ColdInstances>(
        [connect](const worker::v1::InvokeRequest&)
            -> absl::StatusOr<ConnectionSet> {
          if (!connect.ok()) {
            return connect;
          }
          return ConnectionSet();
        },
        std::move(body),
        [this](uint64_t route, worker::v1::InvokeReply reply) {
          replies_.emplace_back(route, std::move(reply));
        },
        [this](ConnectionSet) { ++retired_; }, [] { return std::vector<int>(); });
  }

  static worker::v1::InvokeRequest Request(uint64_t id,
                                           const std::string& library,
                                           const std::string& payload,
                                           uint32_t timeout_ms = 10000) {
    worker::v1::InvokeRequest request;
    request.set_id(id);
    request.set_mode(worker::v1::COLD);
    request.set_payload(payload);
    request.set_timeout_ms(timeout_ms);
    request.mutable_cold_function()->set_library_path(library);
    return request;
  }

  // Runs the loop's part until no child is left (at most 10 s).
  void Pump(ColdInstances& cold) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!cold.Fds().empty() && absl::Now() < deadline) {
      std::vector<std::pair<uint64_t, int>> fds = cold.Fds();
      std::vector<pollfd> polled;
      for (const auto& [id, fd] : fds) {
        polled.push_back({fd, POLLIN, 0});
      }
      poll(polled.data(), polled.size(), 20);
      for (size_t i = 0; i < fds.size(); ++i) {
        if (polled[i].revents != 0) {
          cold.OnReadable(fds[i].first);
        }
      }
      cold.Expire(absl::Now());
    }
  }

  std::vector<std::pair<uint64_t, worker::v1::InvokeReply>> replies_;
  int retired_ = 0;
};

TEST_F(ColdInstancesTest, AChildLoadsTheFunctionAndAnswersOnce) {
  std::unique_ptr<ColdInstances> cold = Make();
  const std::string echo = Runfile("daemon/worker/testing/echo_function.so");
  ASSERT_TRUE(cold->Serve(Request(7, echo, "hello"), /*route=*/3).ok());
  ASSERT_TRUE(cold->Serve(Request(8, echo, "fail"), /*route=*/0).ok());
  EXPECT_EQ(cold->running(), 2u);
  Pump(*cold);
  ASSERT_EQ(replies_.size(), 2u);
  for (const auto& [route, reply] : replies_) {
    EXPECT_TRUE(reply.from_template());
    EXPECT_EQ(reply.served_by(), worker::v1::COLD);
    EXPECT_NE(reply.instance_pid(), getpid());
    EXPECT_GT(reply.instance_pid(), 0);
    if (reply.id() == 7) {
      EXPECT_EQ(route, 3u);
      EXPECT_EQ(reply.code(), 0) << reply.message();
      EXPECT_EQ(reply.result(), "hello");
    } else {
      EXPECT_EQ(reply.id(), 8u);
      EXPECT_EQ(reply.code(), static_cast<int>(absl::StatusCode::kAborted));
    }
  }
  EXPECT_EQ(cold->running(), 0u);
  EXPECT_EQ(cold->forks(), 2u);
  EXPECT_EQ(retired_, 2);
}

TEST_F(ColdInstancesTest, ALibraryThatCannotLoadIsReportedAsAtStartup) {
  std::unique_ptr<ColdInstances> cold = Make();
  ASSERT_TRUE(
      cold->Serve(Request(1, "/nonexistent/f.so", ""), 0).ok());
  ASSERT_TRUE(cold->Serve(
      Request(2, Runfile("daemon/worker/testing/no_function.so"), ""), 0).ok());
  Pump(*cold);
  ASSERT_EQ(replies_.size(), 2u);
  for (const auto& [route, reply] : replies_) {
    const absl::Status status = DecodeStatus(reply);
    if (reply.id() == 1) {
      EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
      EXPECT_TRUE(absl::StrContains(
          status.message(), "cannot load function library /nonexistent/f.so"))
          << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
      EXPECT_TRUE(absl::StrContains(status.message(), "exports no"))
          << status;
    }
  }
  EXPECT_EQ(retired_, 2);
}

TEST_F(ColdInstancesTest, AHungChildIsKilledAtItsTimeoutAndACrashReported) {
  std::unique_ptr<ColdInstances> cold =
      Make([](SeqpacketSocket, const ConnectionSet&,
              const worker::v1::InvokeRequest& request) {
        if (request.payload() == "crash") {
          _exit(3);
        }
        while (true) {
          pause();
        }
      });
  const absl::Time start = absl::Now();
  ASSERT_TRUE(cold->Serve(Request(1, "/x.so", "hang", 100), 0).ok());
  ASSERT_TRUE(cold->Serve(Request(2, "/x.so", "crash"), 0).ok());
  EXPECT_LT(cold->NextWake(), absl::Now() + absl::Seconds(1));
  Pump(*cold);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_EQ(replies_.size(), 2u);
  for (const auto& [route, reply] : replies_) {
    const absl::Status status = DecodeStatus(reply);
    if (reply.id() == 1) {
      EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
      EXPECT_TRUE(absl::StrContains(status.message(),
                                    "did not return within its timeout"))
          << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
      EXPECT_TRUE(absl::StrContains(status.message(), "exited with status 3"))
          << status;
    }
  }
  EXPECT_EQ(cold->NextWake(), absl::InfiniteFuture());
  EXPECT_EQ(retired_, 2);
}

TEST_F(ColdInstancesTest, NothingStartsWithoutAFunctionOrConnections) {
  std::unique_ptr<ColdInstances> cold =
      Make(nullptr, absl::UnavailableError("connecting to sink on a: down"));
  worker::v1::InvokeRequest nameless = Request(1, "", "");
  EXPECT_EQ(cold->Serve(nameless, 0).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status refused = cold->Serve(Request(2, "/x.so", ""), 0);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(refused.message(), "connecting to sink"));
  EXPECT_EQ(cold->forks(), 0u);
  EXPECT_TRUE(cold->Fds().empty());
  EXPECT_TRUE(replies_.empty());
}

}  // namespace
}  // namespace swift
