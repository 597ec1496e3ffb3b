// InstanceSupervisor on the host, with real forks and no RDMA device (the
// instances get empty connection sets): FORK runs in a fresh child and
// WARM reuses it; a spare is forked once traffic pauses, never while an
// invocation runs, and serves the next FORK; crashes, hangs and failures
// are answered and the supervisor goes on; at max_instances the
// longest-idle instance is retired; idle instances expire.
#include "daemon/worker/instance_supervisor.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "daemon/worker/connection_set_pool.h"
#include "proto/fast_path.pb.h"

namespace swift {
namespace {

// The test's function: "echo:X" answers X, "crash" dies of SIGSEGV,
// "hang" never returns, "fail" returns 7.
extern "C" int TestFunction(const swift_invocation* invocation) {
  const std::string payload(reinterpret_cast<const char*>(invocation->payload),
                            invocation->payload_size);
  if (payload == "crash") {
    raise(SIGSEGV);
  }
  if (payload == "hang") {
    while (true) {
      pause();
    }
  }
  if (payload == "fail") {
    return 7;
  }
  const std::string result = payload.substr(payload.find(':') + 1);
  std::memcpy(invocation->result, result.data(), result.size());
  *invocation->result_size = result.size();
  return 0;
}

constexpr uint64_t kRoute = 5;

class InstanceSupervisorTest : public ::testing::Test {
 protected:
  void Start(int spares, int max_instances,
             absl::Duration idle_timeout = absl::Seconds(60)) {
    sets_ = std::make_unique<ConnectionSetPool>(nullptr,
                                                ConnectionSetPool::Targets(),
                                                /*prepared=*/2);
    ASSERT_TRUE(sets_->Fill(2).ok());
    sets_->StartMaintaining();
    InstancePool::Options policy;
    policy.spares = spares;
    policy.max_instances = max_instances;
    policy.idle_timeout = idle_timeout;
    supervisor_ = std::make_unique<InstanceSupervisor>(
        policy, InstanceSpec{&TestFunction, ProviderDoorbell(), getpid()},
        sets_.get(),
        [this](uint64_t route, worker::v1::InvokeReply reply) {
          replies_.emplace_back(route, std::move(reply));
        },
        [this] { return foreign_fds_; },
        [this](uint64_t route, bool closed) {
          channels_back_.emplace_back(route, closed);
        });
  }

  static worker::v1::InvokeRequest Request(worker::v1::InvokeMode mode,
                                           const std::string& payload,
                                           uint32_t timeout_ms = 10000) {
    static uint64_t next_id = 1;
    worker::v1::InvokeRequest request;
    request.set_id(next_id++);
    request.set_mode(mode);
    request.set_payload(payload);
    request.set_timeout_ms(timeout_ms);
    return request;
  }

  // One round of the worker's loop: waits up to `wait` for the children.
  void Round(absl::Duration wait) {
    std::vector<std::pair<uint64_t, int>> fds = supervisor_->Fds();
    std::vector<pollfd> polled;
    for (const auto& [id, fd] : fds) {
      polled.push_back({fd, POLLIN, 0});
    }
    poll(polled.data(), polled.size(),
         static_cast<int>(absl::ToInt64Milliseconds(wait)));
    for (size_t i = 0; i < polled.size(); ++i) {
      if (polled[i].revents != 0) {
        supervisor_->OnReadable(fds[i].first);
      }
    }
    supervisor_->Expire(absl::Now());
  }

  // Serves `request` (unless it was already) and runs rounds until its
  // reply.
  worker::v1::InvokeReply Invoke(const worker::v1::InvokeRequest& request,
                                 bool serve = true) {
    if (serve) {
      const absl::Status served = supervisor_->Serve(request, kRoute);
      EXPECT_TRUE(served.ok()) << served;
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      for (size_t i = 0; i < replies_.size(); ++i) {
        if (replies_[i].second.id() == request.id()) {
          EXPECT_EQ(replies_[i].first, kRoute);
          worker::v1::InvokeReply reply = std::move(replies_[i].second);
          replies_.erase(replies_.begin() + i);
          return reply;
        }
      }
      Round(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "no reply to request " << request.id();
    return worker::v1::InvokeReply();
  }

  worker::v1::WorkerStats Stats() {
    worker::v1::WorkerStats stats;
    supervisor_->FillStats(&stats);
    return stats;
  }

  static bool Alive(int64_t pid) {
    return kill(static_cast<pid_t>(pid), 0) == 0;
  }

  std::unique_ptr<ConnectionSetPool> sets_;
  std::vector<std::pair<uint64_t, worker::v1::InvokeReply>> replies_;
  // What children must close: the test's client ends of channels (a
  // client is another process).
  std::vector<int> foreign_fds_;
  // Parked channels given back: (route, closed by the client).
  std::vector<std::pair<uint64_t, bool>> channels_back_;
  // Declared last: its children go before the sets.
  std::unique_ptr<InstanceSupervisor> supervisor_;
};

TEST_F(InstanceSupervisorTest, ForkRunsInAChildAndWarmReusesIt) {
  Start(/*spares=*/0, /*max_instances=*/4);
  const worker::v1::InvokeReply forked =
      Invoke(Request(worker::v1::FORK, "echo:1"));
  EXPECT_EQ(forked.code(), 0) << forked.message();
  EXPECT_EQ(forked.result(), "1");
  EXPECT_EQ(forked.served_by(), worker::v1::FORK);
  EXPECT_FALSE(forked.spare());
  EXPECT_NE(forked.instance_pid(), getpid());
  const worker::v1::InvokeReply warm =
      Invoke(Request(worker::v1::WARM, "echo:2"));
  EXPECT_EQ(warm.result(), "2");
  EXPECT_EQ(warm.served_by(), worker::v1::WARM);
  EXPECT_EQ(warm.instance_pid(), forked.instance_pid());
  // FORK never reuses an instance that has run.
  const worker::v1::InvokeReply again =
      Invoke(Request(worker::v1::FORK, "echo:3"));
  EXPECT_NE(again.instance_pid(), forked.instance_pid());
  EXPECT_EQ(Stats().forks(), 2u);
  EXPECT_EQ(Stats().instances(), 2u);
}

// A request from a client's direct channel: the instance answers the
// client there (a FastResponse with the result), and the supervisor's reply
// only says that it ended. Both a child forked for the request (which keeps
// the channel it inherited) and an instance sent the request (the channel
// attached) do so; the worker's copy of the channel stays open.
TEST_F(InstanceSupervisorTest, AnInstanceAnswersTheClientOnItsChannel) {
  Start(/*spares=*/1, /*max_instances=*/4);
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> channel =
      SeqpacketSocket::Pair();
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto on_channel = [&](worker::v1::InvokeMode mode,
                        const std::string& payload) {
    worker::v1::InvokeRequest request = Request(mode, payload);
    request.mutable_answer_on_channel()->set_function("echo");
    request.mutable_answer_on_channel()->set_received_ns(
        absl::ToUnixNanos(absl::Now()));
    return request;
  };
  auto client_reads = [&](uint64_t id) {
    absl::StatusOr<SeqpacketSocket::Message> message =
        channel->second.Receive();
    v1::FastResponse response;
    EXPECT_TRUE(message.ok() && response.ParseFromString(message->data));
    EXPECT_EQ(response.call_id(), id);
    return response;
  };

  const worker::v1::InvokeRequest forked =
      on_channel(worker::v1::FORK, "echo:a");
  ASSERT_TRUE(supervisor_->Serve(forked, kRoute, channel->first.fd()).ok());
  const v1::FastResponse first = client_reads(forked.id());
  EXPECT_EQ(first.code(), 0) << first.message();
  EXPECT_EQ(first.invoke().result(), "a");
  EXPECT_EQ(first.invoke().served_by(), v1::InvokeRequest::FORK);
  const worker::v1::InvokeReply ended = Invoke(forked, /*serve=*/false);
  EXPECT_TRUE(ended.answered());
  EXPECT_TRUE(ended.result().empty()) << "the result went to the client only";
  EXPECT_EQ(ended.code(), 0);

  // The same instance, sent a WARM request with the channel attached.
  const worker::v1::InvokeRequest warm = on_channel(worker::v1::WARM, "echo:b");
  ASSERT_TRUE(supervisor_->Serve(warm, kRoute, channel->first.fd()).ok());
  const v1::FastResponse second = client_reads(warm.id());
  EXPECT_EQ(second.invoke().result(), "b");
  EXPECT_EQ(second.invoke().served_by(), v1::InvokeRequest::WARM);
  EXPECT_EQ(second.invoke().instance_pid(), first.invoke().instance_pid());
  EXPECT_TRUE(Invoke(warm, /*serve=*/false).answered());

  // A spare forked once traffic paused, answering a FORK on the channel.
  supervisor_->TopUpSpares(absl::Now() + absl::Seconds(1));
  ASSERT_EQ(Stats().spares(), 1u);
  const worker::v1::InvokeRequest spare =
      on_channel(worker::v1::FORK, "echo:c");
  ASSERT_TRUE(supervisor_->Serve(spare, kRoute, channel->first.fd()).ok());
  const v1::FastResponse third = client_reads(spare.id());
  EXPECT_EQ(third.invoke().result(), "c");
  EXPECT_TRUE(third.invoke().spare());
  EXPECT_FALSE(third.invoke().parked()) << "sent by the supervisor";
  EXPECT_NE(third.invoke().instance_pid(), first.invoke().instance_pid());
  EXPECT_TRUE(Invoke(spare, /*serve=*/false).answered());

  // A failure is the client's to read, and the supervisor's to count.
  const worker::v1::InvokeRequest failing =
      on_channel(worker::v1::WARM, "fail");
  ASSERT_TRUE(supervisor_->Serve(failing, kRoute, channel->first.fd()).ok());
  EXPECT_EQ(client_reads(failing.id()).code(),
            static_cast<int>(absl::StatusCode::kAborted));
  const worker::v1::InvokeReply failed = Invoke(failing, /*serve=*/false);
  EXPECT_TRUE(failed.answered());
  EXPECT_EQ(failed.code(), static_cast<int>(absl::StatusCode::kAborted));

  // A crash cannot answer: the supervisor's reply carries the error, for
  // the worker to send.
  const worker::v1::InvokeRequest crashing =
      on_channel(worker::v1::WARM, "crash");
  ASSERT_TRUE(supervisor_->Serve(crashing, kRoute, channel->first.fd()).ok());
  const worker::v1::InvokeReply crashed = Invoke(crashing, /*serve=*/false);
  EXPECT_FALSE(crashed.answered());
  EXPECT_EQ(crashed.code(), static_cast<int>(absl::StatusCode::kInternal));
  pollfd nothing = {channel->second.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&nothing, 1, 0), 0) << "nothing else reached the client";
}

// A client's channel parked on a spare: its next request goes straight to
// the spare, which answers the client, tells the supervisor it started and
// ended, and gives the channel back; no other request takes that spare. A
// parked channel its client closes comes back closed; a parked request
// whose instance crashes is answered by the supervisor, and the channel
// comes back.
TEST_F(InstanceSupervisorTest, AParkedChannelsRequestGoesStraightToTheSpare) {
  Start(/*spares=*/1, /*max_instances=*/4);
  supervisor_->TopUpSpares(absl::Now() + absl::Seconds(1));
  ASSERT_EQ(Stats().spares(), 1u);
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> channel =
      SeqpacketSocket::Pair();
  ASSERT_TRUE(channel.ok()) << channel.status();
  foreign_fds_ = {channel->second.fd()};
  ASSERT_TRUE(supervisor_->Park(kRoute, channel->first.fd()));
  EXPECT_FALSE(supervisor_->Park(kRoute + 1, channel->first.fd()))
      << "no free spare left";
  // Another route's FORK does not take the parked spare.
  const worker::v1::InvokeReply other =
      Invoke(Request(worker::v1::FORK, "echo:o"));
  EXPECT_FALSE(other.spare());
  EXPECT_EQ(Stats().forks(), 2u);

  auto client_sends = [&](SeqpacketSocket& client, uint64_t call_id,
                          const std::string& payload) {
    v1::FastRequest request;
    request.set_call_id(call_id);
    request.mutable_invoke()->set_function("echo");
    request.mutable_invoke()->set_mode(v1::InvokeRequest::FORK);
    request.mutable_invoke()->set_payload(payload);
    ASSERT_TRUE(client.Send(request.SerializeAsString()).ok());
  };
  auto rounds_until = [&](auto done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (!done() && absl::Now() < deadline) {
      Round(absl::Milliseconds(50));
    }
    return done();
  };

  client_sends(channel->second, 77, "echo:p");
  absl::StatusOr<SeqpacketSocket::Message> answer = channel->second.Receive();
  v1::FastResponse response;
  ASSERT_TRUE(answer.ok() && response.ParseFromString(answer->data));
  EXPECT_EQ(response.call_id(), 77u);
  EXPECT_EQ(response.code(), 0) << response.message();
  EXPECT_EQ(response.invoke().result(), "p");
  EXPECT_TRUE(response.invoke().spare());
  EXPECT_TRUE(response.invoke().parked());
  ASSERT_TRUE(rounds_until([&] { return !channels_back_.empty(); }));
  EXPECT_EQ(channels_back_[0], std::make_pair(kRoute, false));
  ASSERT_EQ(replies_.size(), 1u);
  EXPECT_EQ(replies_[0].first, kRoute);
  EXPECT_EQ(replies_[0].second.id(), 77u);
  EXPECT_TRUE(replies_[0].second.answered());
  EXPECT_EQ(Stats().spare_hits(), 1u);
  EXPECT_EQ(Stats().busy(), 0u);

  // A malformed request on a parked channel: the spare answers the client
  // with the error and keeps the channel; the refusal reaches the route as
  // an answered, failed invocation.
  supervisor_->TopUpSpares(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(supervisor_->Park(kRoute, channel->first.fd()));
  ASSERT_TRUE(channel->second.Send("\xff not a request").ok());
  answer = channel->second.Receive();
  ASSERT_TRUE(answer.ok() && response.ParseFromString(answer->data));
  EXPECT_EQ(response.code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument))
      << response.message();
  ASSERT_TRUE(rounds_until([&] { return replies_.size() == 2; }));
  EXPECT_EQ(replies_[1].first, kRoute);
  EXPECT_TRUE(replies_[1].second.answered());
  EXPECT_EQ(replies_[1].second.code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(channels_back_.size(), 1u) << "the channel stays parked";
  EXPECT_EQ(Stats().spares(), 1u) << "still a spare";

  // The client closes its parked channel.
  channel->second = SeqpacketSocket(UniqueFd());
  ASSERT_TRUE(rounds_until([&] { return channels_back_.size() == 2; }));
  EXPECT_EQ(channels_back_[1], std::make_pair(kRoute, true));
  EXPECT_EQ(Stats().spares(), 1u) << "still a spare";

  // A parked request that crashes its instance: the supervisor answers.
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> second =
      SeqpacketSocket::Pair();
  ASSERT_TRUE(second.ok());
  foreign_fds_ = {second->second.fd()};
  ASSERT_TRUE(supervisor_->Park(kRoute + 1, second->first.fd()));
  client_sends(second->second, 78, "crash");
  ASSERT_TRUE(rounds_until([&] { return channels_back_.size() == 3; }));
  EXPECT_EQ(channels_back_[2], std::make_pair(kRoute + 1, false));
  ASSERT_EQ(replies_.size(), 3u);
  EXPECT_EQ(replies_[2].first, kRoute + 1);
  EXPECT_EQ(replies_[2].second.id(), 78u);
  EXPECT_FALSE(replies_[2].second.answered());
  EXPECT_EQ(replies_[2].second.code(),
            static_cast<int>(absl::StatusCode::kInternal));
}

TEST_F(InstanceSupervisorTest, WarmWithNoIdleInstanceForks) {
  Start(/*spares=*/0, /*max_instances=*/4);
  const worker::v1::InvokeReply reply =
      Invoke(Request(worker::v1::WARM, "echo:w"));
  EXPECT_EQ(reply.result(), "w");
  EXPECT_EQ(reply.served_by(), worker::v1::FORK);
}

TEST_F(InstanceSupervisorTest, ASpareIsForkedOnceTrafficPausesAndServesAFork) {
  Start(/*spares=*/1, /*max_instances=*/4);
  const worker::v1::InvokeReply first =
      Invoke(Request(worker::v1::FORK, "echo:1"));
  // Right after the reply: traffic has not paused.
  supervisor_->TopUpSpares(absl::Now());
  EXPECT_EQ(Stats().forks(), 1u);
  supervisor_->TopUpSpares(absl::Now() + absl::Seconds(1));
  EXPECT_EQ(Stats().forks(), 2u);
  EXPECT_EQ(Stats().spares(), 1u);
  EXPECT_LE(supervisor_->NextWake(), absl::Now() + absl::Seconds(61));

  const worker::v1::InvokeReply spare =
      Invoke(Request(worker::v1::FORK, "echo:2"));
  EXPECT_EQ(spare.result(), "2");
  EXPECT_TRUE(spare.spare());
  EXPECT_EQ(spare.served_by(), worker::v1::FORK);
  EXPECT_NE(spare.instance_pid(), first.instance_pid());
  EXPECT_EQ(Stats().spare_hits(), 1u);
  EXPECT_EQ(Stats().spares(), 0u);
}

TEST_F(InstanceSupervisorTest, NoSpareIsForkedWhileAnInvocationRuns) {
  Start(/*spares=*/1, /*max_instances=*/4);
  ASSERT_TRUE(
      supervisor_->Serve(Request(worker::v1::FORK, "hang", 60000), kRoute)
          .ok());
  supervisor_->TopUpSpares(absl::Now() + absl::Hours(1));
  EXPECT_EQ(Stats().forks(), 1u);
  EXPECT_EQ(Stats().busy(), 1u);
}

TEST_F(InstanceSupervisorTest, CrashHangAndFailureAreAnsweredAndItGoesOn) {
  Start(/*spares=*/0, /*max_instances=*/4);
  const worker::v1::InvokeReply crashed =
      Invoke(Request(worker::v1::FORK, "crash"));
  EXPECT_EQ(crashed.code(), static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_TRUE(absl::StrContains(crashed.message(), "signal 11"))
      << crashed.message();
  EXPECT_FALSE(Alive(crashed.instance_pid()));

  const worker::v1::InvokeReply hung =
      Invoke(Request(worker::v1::FORK, "hang", /*timeout_ms=*/200));
  EXPECT_EQ(hung.code(), static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  EXPECT_TRUE(absl::StrContains(hung.message(), "was killed"))
      << hung.message();
  EXPECT_FALSE(Alive(hung.instance_pid())) << "reaped";

  const worker::v1::InvokeReply failed =
      Invoke(Request(worker::v1::FORK, "fail"));
  EXPECT_EQ(failed.code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_TRUE(absl::StrContains(failed.message(), "returned 7"))
      << failed.message();

  EXPECT_EQ(Invoke(Request(worker::v1::FORK, "echo:ok")).result(), "ok");
}

TEST_F(InstanceSupervisorTest, AtMaxInstancesTheLongestIdleIsRetired) {
  Start(/*spares=*/0, /*max_instances=*/2);
  const int64_t a = Invoke(Request(worker::v1::FORK, "echo:a")).instance_pid();
  const int64_t b = Invoke(Request(worker::v1::FORK, "echo:b")).instance_pid();
  const worker::v1::InvokeReply c = Invoke(Request(worker::v1::FORK, "echo:c"));
  EXPECT_EQ(c.code(), 0) << c.message();
  EXPECT_EQ(c.result(), "c");
  // `a` idled the longest: killed, and reaped by a later round.
  for (int i = 0; i < 40 && Stats().instances() > 2; ++i) {
    Round(absl::Milliseconds(50));
  }
  Round(absl::Milliseconds(50));
  EXPECT_FALSE(Alive(a));
  EXPECT_TRUE(Alive(b));
  EXPECT_EQ(Stats().instances(), 2u);
}

TEST_F(InstanceSupervisorTest, WhenEveryInstanceIsBusyAForkIsRefused) {
  Start(/*spares=*/0, /*max_instances=*/1);
  ASSERT_TRUE(
      supervisor_->Serve(Request(worker::v1::FORK, "hang", 60000), kRoute)
          .ok());
  const absl::Status refused =
      supervisor_->Serve(Request(worker::v1::FORK, "echo:x"), kRoute);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "max_instances"));
}

TEST_F(InstanceSupervisorTest, IdleInstancesExpireAndSparesStay) {
  Start(/*spares=*/1, /*max_instances=*/4,
        /*idle_timeout=*/absl::Milliseconds(100));
  const int64_t ran =
      Invoke(Request(worker::v1::FORK, "echo:1")).instance_pid();
  supervisor_->TopUpSpares(absl::Now() + absl::Seconds(1));
  ASSERT_EQ(Stats().spares(), 1u);
  supervisor_->Expire(absl::Now() + absl::Seconds(10));
  EXPECT_FALSE(Alive(ran));
  EXPECT_EQ(Stats().instances(), 1u) << "the spare stays";
  EXPECT_EQ(Stats().spares(), 1u);
}

}  // namespace
}  // namespace swift
