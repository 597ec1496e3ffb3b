// The wait modes on a real device (rdma_rxe in the guest): every
// completion reaches the thread that owns its CQ exactly once, with a few
// threads, with hundreds of threads on 2 cores, and while waiters come and
// go; waits are bounded; the dispatcher follows a thread to another core
// and sleeps when idle; misuse is refused with a reason.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/wait/dispatcher_table.h"
#include "common/verbs/rdma_test_util.h"
#include "swift/wait.h"

namespace swift {
namespace {

using ::swift::verbs::testing::ConnectRc;
using ::swift::verbs::testing::MakeRcSide;
using ::swift::verbs::testing::Memory;
using ::swift::verbs::testing::RcSide;
using ::swift::verbs::testing::RdmaTest;

constexpr size_t kRecvOffset = 0;
constexpr size_t kSendOffset = 1024;
constexpr uint32_t kMessageBytes = 16;
// Tells a send's wr_id from a receive's.
constexpr uint64_t kSendBit = uint64_t{1} << 63;
// Long enough for hundreds of threads on 2 emulated cores; a hang fails
// the test instead of blocking it.
constexpr absl::Duration kWaitLimit = absl::Seconds(60);

// One side's tally of its completions, checked as they come: each must be
// this QP's, succeed, and carry the next wr_id of its kind.
struct Tally {
  uint64_t sends = 0;
  uint64_t recvs = 0;
};

// One side of a ping-pong pair, waited on with a CqWaiter.
class PingPongSide {
 public:
  PingPongSide(std::unique_ptr<RcSide> side) : side_(std::move(side)) {}

  RcSide& rc() { return *side_; }

  absl::Status PostRecv() {
    return side_->qp->PostRecv(side_->mr->Sge(kRecvOffset, kMessageBytes),
                               tally_.recvs);
  }

  absl::Status Send(uint64_t value) {
    std::memcpy(side_->data() + kSendOffset, &value, sizeof(value));
    return side_->qp->PostSend(side_->mr->Sge(kSendOffset, kMessageBytes),
                               kSendBit | posted_sends_++);
  }

  // A signaled RDMA WRITE into `peer`'s buffer: a completion on this side
  // that needs no receive posted there. Counted as a send.
  absl::Status Write(const RcSide& peer) {
    return side_->qp->PostWrite(side_->mr->Sge(kSendOffset, kMessageBytes),
                                peer.mr->Remote().addr + kSendOffset,
                                peer.mr->rkey(), kSendBit | posted_sends_++);
  }

  uint64_t Received() const {
    uint64_t value;
    std::memcpy(&value, side_->data() + kRecvOffset, sizeof(value));
    return value;
  }

  // Waits until `sends` sends and `recvs` receives have completed in all.
  absl::Status WaitUntil(CqWaiter& waiter, uint64_t sends, uint64_t recvs) {
    while (tally_.sends < sends || tally_.recvs < recvs) {
      ibv_wc wcs[8];
      absl::StatusOr<int> count = waiter.Wait(wcs, 8, kWaitLimit);
      if (!count.ok()) {
        return count.status();
      }
      for (int i = 0; i < *count; ++i) {
        if (absl::Status checked = Check(wcs[i]); !checked.ok()) {
          return checked;
        }
      }
    }
    return absl::OkStatus();
  }

  const Tally& tally() const { return tally_; }

 private:
  absl::Status Check(const ibv_wc& wc) {
    if (wc.status != IBV_WC_SUCCESS) {
      return absl::InternalError(
          absl::StrCat("completion failed: ", ibv_wc_status_str(wc.status)));
    }
    if (wc.qp_num != side_->qp->qpn()) {
      return absl::InternalError(absl::StrCat("completion of qp ", wc.qp_num,
                                              " reached the owner of qp ",
                                              side_->qp->qpn()));
    }
    const bool is_send = (wc.wr_id & kSendBit) != 0;
    uint64_t& seen = is_send ? tally_.sends : tally_.recvs;
    const uint64_t sequence = wc.wr_id & ~kSendBit;
    if (sequence != seen) {
      return absl::InternalError(
          absl::StrCat(is_send ? "send" : "receive", " completion ", sequence,
                       " arrived when ", seen, " was next (lost or doubled)"));
    }
    ++seen;
    return absl::OkStatus();
  }

  std::unique_ptr<RcSide> side_;
  Tally tally_;
  uint64_t posted_sends_ = 0;
};

struct Pair {
  std::unique_ptr<PingPongSide> client;
  std::unique_ptr<PingPongSide> server;
};

// Two sides on `context` of `device` (a new context when null), each with
// its own CQ and completion channel, connected to each other.
struct ConnectedSides {
  std::unique_ptr<RcSide> a;
  std::unique_ptr<RcSide> b;
};

absl::StatusOr<ConnectedSides> MakeConnectedSides(
    const verbs::testing::TestDevice& device,
    std::shared_ptr<verbs::Context> context = nullptr) {
  absl::StatusOr<std::unique_ptr<RcSide>> a = MakeRcSide(
      device, 4096, Memory::kHeap, /*with_channel=*/true, std::move(context));
  if (!a.ok()) {
    return a.status();
  }
  absl::StatusOr<std::unique_ptr<RcSide>> b = MakeRcSide(
      device, 4096, Memory::kHeap, /*with_channel=*/true, (*a)->context);
  if (!b.ok()) {
    return b.status();
  }
  if (absl::Status connected = ConnectRc(**a, **b); !connected.ok()) {
    return connected;
  }
  return ConnectedSides{*std::move(a), *std::move(b)};
}

WaitOptions OptionsFor(WaitMode mode) {
  WaitOptions options;
  options.mode = mode;
  return options;
}

// A mode, and whether its waiters spin first (hybrid, dispatcher): without
// the spin, every wait that finds the CQ empty sleeps, so the dispatcher
// path carries every completion.
struct Variant {
  WaitMode mode;
  bool spin;
};

WaitOptions OptionsFor(const Variant& variant) {
  WaitOptions options = OptionsFor(variant.mode);
  if (!variant.spin) {
    options.max_spin = absl::ZeroDuration();
  }
  return options;
}

class WaitRdmaTest : public RdmaTest,
                     public ::testing::WithParamInterface<Variant> {
 protected:
  // `count` connected pairs on one device context, each side with its own
  // CQ and completion channel, a receive posted on each.
  std::vector<Pair> MakePairs(int count) {
    std::vector<Pair> pairs;
    std::shared_ptr<verbs::Context> context;
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<ConnectedSides> sides =
          MakeConnectedSides(device(), context);
      EXPECT_TRUE(sides.ok()) << sides.status();
      if (!sides.ok()) {
        return {};
      }
      context = sides->a->context;
      Pair pair{std::make_unique<PingPongSide>(std::move(sides->a)),
                std::make_unique<PingPongSide>(std::move(sides->b))};
      EXPECT_TRUE(pair.client->PostRecv().ok());
      EXPECT_TRUE(pair.server->PostRecv().ok());
      pairs.push_back(std::move(pair));
    }
    return pairs;
  }

  // The client side's thread: `rounds` round trips, each checked.
  static absl::Status RunClient(PingPongSide& side, WaitOptions options,
                                int rounds) {
    absl::StatusOr<std::unique_ptr<CqWaiter>> waiter =
        CqWaiter::Create(side.rc().cq->get(), options);
    if (!waiter.ok()) {
      return waiter.status();
    }
    for (int r = 0; r < rounds; ++r) {
      if (absl::Status sent = side.Send(r); !sent.ok()) {
        return sent;
      }
      if (absl::Status done = side.WaitUntil(**waiter, r + 1, r + 1);
          !done.ok()) {
        return done;
      }
      if (side.Received() != 1000000u + r) {
        return absl::InternalError(
            absl::StrCat("reply ", side.Received(), " to ", r));
      }
      if (absl::Status posted = side.PostRecv(); !posted.ok()) {
        return posted;
      }
    }
    return absl::OkStatus();
  }

  // The server side's thread: answers `rounds` messages.
  static absl::Status RunServer(PingPongSide& side, WaitOptions options,
                                int rounds) {
    absl::StatusOr<std::unique_ptr<CqWaiter>> waiter =
        CqWaiter::Create(side.rc().cq->get(), options);
    if (!waiter.ok()) {
      return waiter.status();
    }
    for (int r = 0; r < rounds; ++r) {
      if (absl::Status got = side.WaitUntil(**waiter, r, r + 1); !got.ok()) {
        return got;
      }
      if (side.Received() != static_cast<uint64_t>(r)) {
        return absl::InternalError(
            absl::StrCat("message ", side.Received(), " as ", r));
      }
      if (absl::Status posted = side.PostRecv(); !posted.ok()) {
        return posted;
      }
      if (absl::Status sent = side.Send(1000000u + r); !sent.ok()) {
        return sent;
      }
    }
    return side.WaitUntil(**waiter, rounds, rounds);
  }

  // Runs every pair's two threads for `rounds` round trips and checks that
  // each side saw exactly its completions.
  void PingPong(std::vector<Pair>& pairs, int rounds) {
    const WaitOptions options = OptionsFor(GetParam());
    std::vector<absl::Status> results(pairs.size() * 2);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < pairs.size(); ++i) {
      threads.emplace_back([&, i] {
        results[2 * i] = RunClient(*pairs[i].client, options, rounds);
      });
      threads.emplace_back([&, i] {
        results[2 * i + 1] = RunServer(*pairs[i].server, options, rounds);
      });
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    for (size_t i = 0; i < results.size(); ++i) {
      EXPECT_TRUE(results[i].ok()) << "thread " << i << ": " << results[i];
    }
    for (Pair& pair : pairs) {
      EXPECT_EQ(pair.client->tally().sends, static_cast<uint64_t>(rounds));
      EXPECT_EQ(pair.client->tally().recvs, static_cast<uint64_t>(rounds));
      EXPECT_EQ(pair.server->tally().sends, static_cast<uint64_t>(rounds));
      EXPECT_EQ(pair.server->tally().recvs, static_cast<uint64_t>(rounds));
    }
  }
};

TEST_P(WaitRdmaTest, FewThreadsEachGetTheirCompletionsExactlyOnce) {
  std::vector<Pair> pairs = MakePairs(4);
  ASSERT_EQ(pairs.size(), 4u);
  PingPong(pairs, 200);
}

TEST_P(WaitRdmaTest, HundredsOfThreadsOnTwoCoresLoseNothing) {
  // busy_poll spins a whole time slice per wait: with hundreds of spinners
  // on 2 cores each round trip takes many slices, so it does fewer rounds.
  const int rounds = GetParam().mode == WaitMode::kBusyPoll ? 3 : 20;
  std::vector<Pair> pairs = MakePairs(128);  // 256 threads.
  ASSERT_EQ(pairs.size(), 128u);
  PingPong(pairs, rounds);
}

TEST_P(WaitRdmaTest, WaitersComingAndGoingDoNotDisturbTraffic) {
  std::vector<Pair> steady = MakePairs(4);
  std::vector<Pair> churning = MakePairs(4);
  ASSERT_EQ(steady.size(), 4u);
  ASSERT_EQ(churning.size(), 4u);
  const WaitOptions options = OptionsFor(GetParam());
  std::vector<absl::Status> churn_results(churning.size(), absl::OkStatus());
  std::vector<std::thread> churners;
  for (size_t i = 0; i < churning.size(); ++i) {
    churners.emplace_back([&, i] {
      // Each round trip with a new waiter on both sides: registration and
      // unregistration while the steady pairs' traffic flows.
      PingPongSide& client = *churning[i].client;
      PingPongSide& server = *churning[i].server;
      for (int r = 0; r < 30 && churn_results[i].ok(); ++r) {
        absl::StatusOr<std::unique_ptr<CqWaiter>> client_waiter =
            CqWaiter::Create(client.rc().cq->get(), options);
        absl::StatusOr<std::unique_ptr<CqWaiter>> server_waiter =
            CqWaiter::Create(server.rc().cq->get(), options);
        if (!client_waiter.ok() || !server_waiter.ok()) {
          churn_results[i] = client_waiter.ok() ? server_waiter.status()
                                                : client_waiter.status();
          break;
        }
        absl::Status status = client.Send(r);
        if (status.ok()) {
          status = server.WaitUntil(**server_waiter, r, r + 1);
        }
        if (status.ok()) {
          status = server.PostRecv();
        }
        if (status.ok()) {
          status = server.Send(1000000u + r);
        }
        if (status.ok()) {
          status = server.WaitUntil(**server_waiter, r + 1, r + 1);
        }
        if (status.ok()) {
          status = client.WaitUntil(**client_waiter, r + 1, r + 1);
        }
        if (status.ok()) {
          status = client.PostRecv();
        }
        churn_results[i] = status;
      }
    });
  }
  PingPong(steady, 100);
  for (std::thread& thread : churners) {
    thread.join();
  }
  for (size_t i = 0; i < churning.size(); ++i) {
    EXPECT_TRUE(churn_results[i].ok()) << churn_results[i];
    EXPECT_EQ(churning[i].client->tally().recvs, 30u);
    EXPECT_EQ(churning[i].server->tally().recvs, 30u);
  }
}

TEST_P(WaitRdmaTest, AnIdleWaitEndsAtItsTimeout) {
  std::vector<Pair> pairs = MakePairs(1);
  ASSERT_EQ(pairs.size(), 1u);
  absl::StatusOr<std::unique_ptr<CqWaiter>> waiter =
      CqWaiter::Create(pairs[0].client->rc().cq->get(), OptionsFor(GetParam()));
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  ibv_wc wc;
  absl::StatusOr<int> count = (*waiter)->Wait(&wc, 1, absl::Milliseconds(50));
  EXPECT_EQ(count.status().code(), absl::StatusCode::kDeadlineExceeded)
      << count.status();
  // And a completion after the timeout still arrives.
  ASSERT_TRUE(pairs[0].client->Send(0).ok());
  absl::Status done = pairs[0].client->WaitUntil(**waiter, 1, 0);
  EXPECT_TRUE(done.ok()) << done;
}

TEST_P(WaitRdmaTest, ASecondWaiterOnOneCqIsRefused) {
  std::vector<Pair> pairs = MakePairs(1);
  ASSERT_EQ(pairs.size(), 1u);
  ibv_cq* cq = pairs[0].client->rc().cq->get();
  absl::StatusOr<std::unique_ptr<CqWaiter>> first =
      CqWaiter::Create(cq, OptionsFor(GetParam()));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<CqWaiter>> second =
      CqWaiter::Create(cq, OptionsFor(GetParam()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("already has a waiter"),
            std::string::npos)
      << second.status();
  // Once the first goes, the CQ may be waited on again.
  first->reset();
  EXPECT_TRUE(CqWaiter::Create(cq, OptionsFor(GetParam())).ok());
}

INSTANTIATE_TEST_SUITE_P(AllModes, WaitRdmaTest,
                         ::testing::Values(Variant{WaitMode::kBusyPoll, true},
                                           Variant{WaitMode::kEvent, true},
                                           Variant{WaitMode::kHybrid, true},
                                           Variant{WaitMode::kHybrid, false},
                                           Variant{WaitMode::kDispatcher, true},
                                           Variant{WaitMode::kDispatcher,
                                                   false}),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return absl::StrCat(
                               WaitModeName(info.param.mode),
                               info.param.spin ? "" : "_no_spin");
                         });

class WaitModeRulesRdmaTest : public RdmaTest {};

TEST_F(WaitModeRulesRdmaTest, SleepingModesNeedAChannelAndSayWhy) {
  absl::StatusOr<std::unique_ptr<RcSide>> side =
      MakeRcSide(device(), 4096, Memory::kHeap, /*with_channel=*/false);
  ASSERT_TRUE(side.ok()) << side.status();
  for (WaitMode mode :
       {WaitMode::kEvent, WaitMode::kHybrid, WaitMode::kDispatcher}) {
    absl::StatusOr<std::unique_ptr<CqWaiter>> waiter =
        CqWaiter::Create((*side)->cq->get(), OptionsFor(mode));
    EXPECT_EQ(waiter.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(waiter.status().message().find("completion channel"),
              std::string::npos)
        << waiter.status();
  }
  EXPECT_TRUE(
      CqWaiter::Create((*side)->cq->get(), OptionsFor(WaitMode::kBusyPoll))
          .ok());
}

TEST_F(WaitModeRulesRdmaTest, TwoWaitedCqsMayNotShareAChannel) {
  absl::StatusOr<std::unique_ptr<RcSide>> side =
      MakeRcSide(device(), 4096, Memory::kHeap, /*with_channel=*/true);
  ASSERT_TRUE(side.ok()) << side.status();
  absl::StatusOr<std::shared_ptr<verbs::Cq>> other =
      verbs::Cq::Create((*side)->context, 16, (*side)->channel);
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<std::unique_ptr<CqWaiter>> first =
      CqWaiter::Create((*side)->cq->get(), OptionsFor(WaitMode::kEvent));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<CqWaiter>> second =
      CqWaiter::Create((*other)->get(), OptionsFor(WaitMode::kDispatcher));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("shares its completion channel"),
            std::string::npos)
      << second.status();
}

TEST_F(WaitModeRulesRdmaTest, EventsAreAckedInBatchesAndAllBeforeTheCqGoes) {
  absl::StatusOr<ConnectedSides> sides = MakeConnectedSides(device());
  ASSERT_TRUE(sides.ok()) << sides.status();
  std::vector<Pair> pairs;
  pairs.push_back(Pair{std::make_unique<PingPongSide>(std::move(sides->a)),
                       std::make_unique<PingPongSide>(std::move(sides->b))});
  PingPongSide& client = *pairs[0].client;
  WaitOptions options = OptionsFor(WaitMode::kEvent);
  options.ack_batch = 4;
  absl::StatusOr<std::unique_ptr<CqWaiter>> waiter =
      CqWaiter::Create(client.rc().cq->get(), options);
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  // Each write is posted only once the owner sleeps, so each wait reads
  // an event.
  std::atomic<int> failures{0};
  std::thread owner([&] {
    for (int i = 0; i < 20; ++i) {
      if (!client.WaitUntil(**waiter, i + 1, 0).ok()) {
        failures.fetch_add(1);
        return;
      }
    }
  });
  for (int i = 0; i < 20; ++i) {
    const absl::Time limit = absl::Now() + absl::Seconds(30);
    while ((*waiter)->stats().sleeps <= static_cast<uint64_t>(i) &&
           absl::Now() < limit) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_TRUE(client.Write(pairs[0].server->rc()).ok());
  }
  owner.join();
  ASSERT_EQ(failures.load(), 0);
  const WaitStats stats = (*waiter)->stats();
  EXPECT_GE(stats.events, 20u);
  EXPECT_EQ(stats.ack_calls, stats.events / 4);
  // The waiter acks the rest as it goes; destroying the CQ then must not
  // block on an unacked event (ibv_destroy_cq would wait for ever).
  waiter->reset();
  absl::Status destroyed = client.rc().qp->Destroy();
  ASSERT_TRUE(destroyed.ok()) << destroyed;
  destroyed = client.rc().cq->Destroy();
  EXPECT_TRUE(destroyed.ok()) << destroyed;
}

TEST_F(WaitModeRulesRdmaTest, TheDispatcherFollowsItsOwnerToAnotherCore) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  if (CPU_COUNT(&allowed) < 2) {
    GTEST_SKIP() << "needs two cores";
  }
  absl::StatusOr<ConnectedSides> sides = MakeConnectedSides(device());
  ASSERT_TRUE(sides.ok()) << sides.status();
  PingPongSide client(std::move(sides->a));
  const RcSide& peer = *sides->b;
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < 2; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) {
      cpus.push_back(cpu);
    }
  }
  std::thread owner([&] {
    auto pin = [](int cpu) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      return sched_setaffinity(0, sizeof(one), &one) == 0;
    };
    ASSERT_TRUE(pin(cpus[0]));
    absl::StatusOr<std::unique_ptr<CqWaiter>> waiter = CqWaiter::Create(
        client.rc().cq->get(), OptionsFor(WaitMode::kDispatcher));
    ASSERT_TRUE(waiter.ok()) << waiter.status();
    uint64_t sent = 0;
    for (int i = 0; i < 10; ++i, ++sent) {
      ASSERT_TRUE(client.Write(peer).ok());
      ASSERT_TRUE(client.WaitUntil(**waiter, sent + 1, 0).ok());
    }
    ASSERT_TRUE(pin(cpus[1]));
    // A move waits 10 ms after the last one; keep traffic going past it.
    const absl::Time until = absl::Now() + absl::Milliseconds(200);
    while (absl::Now() < until || (*waiter)->stats().migrations == 0) {
      ASSERT_TRUE(client.Write(peer).ok());
      ++sent;
      ASSERT_TRUE(client.WaitUntil(**waiter, sent, 0).ok());
      ASSERT_LT(sent, 100000u) << "never moved";
    }
    EXPECT_GE((*waiter)->stats().migrations, 1u);
    EXPECT_EQ(client.tally().sends, sent);
  });
  owner.join();
}

TEST_F(WaitModeRulesRdmaTest, AnIdleDispatcherSleeps) {
  absl::StatusOr<ConnectedSides> sides = MakeConnectedSides(device());
  ASSERT_TRUE(sides.ok()) << sides.status();
  PingPongSide client(std::move(sides->a));
  const RcSide& peer = *sides->b;
  // Pinned, so that the waiter stays with one dispatcher.
  std::thread owner([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(wait_internal::CurrentCpu(), &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    // No spin: every wait that finds nothing goes to the dispatcher.
    WaitOptions options = OptionsFor(WaitMode::kDispatcher);
    options.max_spin = absl::ZeroDuration();
    absl::StatusOr<std::unique_ptr<CqWaiter>> waiter =
        CqWaiter::Create(client.rc().cq->get(), options);
    ASSERT_TRUE(waiter.ok()) << waiter.status();
    ASSERT_TRUE(client.Write(peer).ok());
    ASSERT_TRUE(client.WaitUntil(**waiter, 1, 0).ok());
    absl::StatusOr<wait_internal::Dispatcher*> dispatcher =
        wait_internal::DispatcherForCpu(wait_internal::CurrentCpu());
    ASSERT_TRUE(dispatcher.ok());
    // Idle: it backs off to sleep on the channels, and then stops passing
    // over the CQs at all until something happens.
    const absl::Time limit = absl::Now() + absl::Seconds(30);
    while (!(*dispatcher)->asleep() && absl::Now() < limit) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_TRUE((*dispatcher)->asleep());
    const uint64_t passes = (*dispatcher)->passes();
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_TRUE((*dispatcher)->asleep());
    EXPECT_EQ((*dispatcher)->passes(), passes);
    // And a waiter that goes to sleep wakes it: the dispatcher polls the
    // CQ and delivers the completion posted once the owner slept.
    const uint64_t slept = (*waiter)->stats().sleeps;
    std::thread poster([&] {
      const absl::Time limit = absl::Now() + absl::Seconds(30);
      while ((*waiter)->stats().sleeps == slept && absl::Now() < limit) {
        absl::SleepFor(absl::Milliseconds(1));
      }
      EXPECT_TRUE(client.Write(peer).ok());
    });
    EXPECT_TRUE(client.WaitUntil(**waiter, 2, 0).ok());
    poster.join();
    EXPECT_GT((*dispatcher)->passes(), passes);
  });
  owner.join();
}

TEST_F(WaitModeRulesRdmaTest, SleepingOwnersAreWokenAfterTheDispatcherSlept) {
  // Eight owners asleep on their futexes and every dispatcher asleep on
  // the channels; then one completion per CQ: each owner gets its own.
  constexpr int kOwners = 8;
  std::vector<std::unique_ptr<RcSide>> peers;
  std::vector<std::unique_ptr<PingPongSide>> sides;
  std::shared_ptr<verbs::Context> context;
  for (int i = 0; i < kOwners; ++i) {
    absl::StatusOr<ConnectedSides> connected =
        MakeConnectedSides(device(), context);
    ASSERT_TRUE(connected.ok()) << connected.status();
    context = connected->a->context;
    sides.push_back(std::make_unique<PingPongSide>(std::move(connected->a)));
    peers.push_back(std::move(connected->b));
  }
  WaitOptions options = OptionsFor(WaitMode::kDispatcher);
  options.max_spin = absl::ZeroDuration();
  std::vector<std::unique_ptr<CqWaiter>> waiters;
  for (int i = 0; i < kOwners; ++i) {
    absl::StatusOr<std::unique_ptr<CqWaiter>> waiter =
        CqWaiter::Create(sides[i]->rc().cq->get(), options);
    ASSERT_TRUE(waiter.ok()) << waiter.status();
    waiters.push_back(*std::move(waiter));
  }
  std::vector<absl::Status> results(kOwners);
  std::vector<std::thread> owners;
  for (int i = 0; i < kOwners; ++i) {
    owners.emplace_back(
        [&, i] { results[i] = sides[i]->WaitUntil(*waiters[i], 1, 0); });
  }
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  auto all_asleep = [&] {
    for (int i = 0; i < kOwners; ++i) {
      if (waiters[i]->stats().sleeps == 0) {
        return false;
      }
    }
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) {
        absl::StatusOr<wait_internal::Dispatcher*> dispatcher =
            wait_internal::DispatcherForCpu(cpu);
        if (!dispatcher.ok() || !(*dispatcher)->asleep()) {
          return false;
        }
      }
    }
    return true;
  };
  const absl::Time limit = absl::Now() + absl::Seconds(30);
  while (!all_asleep() && absl::Now() < limit) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(all_asleep());
  for (int i = 0; i < kOwners; ++i) {
    ASSERT_TRUE(sides[i]->Write(*peers[i]).ok());
  }
  for (std::thread& owner : owners) {
    owner.join();
  }
  for (int i = 0; i < kOwners; ++i) {
    EXPECT_TRUE(results[i].ok()) << "owner " << i << ": " << results[i];
    EXPECT_EQ(sides[i]->tally().sends, 1u);
  }
}

TEST_F(WaitModeRulesRdmaTest, AnInheritedDispatcherWaiterTellsTheChildWhy) {
  absl::StatusOr<std::unique_ptr<RcSide>> side =
      MakeRcSide(device(), 4096, Memory::kHeap, /*with_channel=*/true);
  ASSERT_TRUE(side.ok()) << side.status();
  absl::StatusOr<std::unique_ptr<CqWaiter>> waiter =
      CqWaiter::Create((*side)->cq->get(), OptionsFor(WaitMode::kDispatcher));
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ibv_wc wc;
    absl::StatusOr<int> count = (*waiter)->Wait(&wc, 1, absl::Seconds(5));
    const bool told =
        count.status().code() == absl::StatusCode::kFailedPrecondition &&
        count.status().message().find("fork") != std::string::npos;
    // The inherited waiter's destructor must not wait for the parent's
    // dispatcher either: leaving by destroying it proves that.
    waiter->reset();
    _exit(told ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace swift
