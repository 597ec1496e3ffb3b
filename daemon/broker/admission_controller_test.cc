#include "daemon/broker/admission_controller.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

// One tenant (not root) unless a test says otherwise.
constexpr uid_t kTenant = 1000;

TEST(AdmissionControllerTest, AdmitsUpToThePerPeerLimitThenQueues) {
  AdmissionController controller({/*per_peer=*/2, /*total=*/10, 100});
  auto first = controller.Admit("B", 1, kTenant, Soon());
  auto second = controller.Admit("B", 1, kTenant, Soon());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(controller.GetStats().in_flight, 2);

  // A third toward B times out while the two are held...
  auto third = controller.Admit("B", 1, kTenant,
                                absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(third.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(controller.GetStats().queued, 0);
  EXPECT_EQ(controller.GetStats().timed_out, 1u);
  // ...while another peer still has room.
  auto other_peer = controller.Admit("C", 1, kTenant, Soon());
  EXPECT_TRUE(other_peer.ok());
}

TEST(AdmissionControllerTest, ReleasingATicketAdmitsTheNextWaiter) {
  AdmissionController controller({1, 1, 100});
  auto held = controller.Admit("B", 1, kTenant, Soon());
  ASSERT_TRUE(held.ok());
  absl::Notification admitted;
  std::thread waiter([&] {
    auto ticket = controller.Admit("B", 2, kTenant, Soon());
    EXPECT_TRUE(ticket.ok());
    admitted.Notify();
  });
  EXPECT_FALSE(admitted.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  held->Release();
  EXPECT_TRUE(admitted.WaitForNotificationWithTimeout(absl::Seconds(10)));
  waiter.join();
  EXPECT_EQ(controller.GetStats().in_flight, 0);
  EXPECT_EQ(controller.GetStats().admitted, 2u);
}

// A config reload: raised limits let a queued connect in at once, with
// the held slot still held; lowered ones hold back new arrivals only.
TEST(AdmissionControllerTest, NewLimitsApplyToTheQueueAtOnce) {
  AdmissionController controller({1, 1, 100});
  auto held = controller.Admit("B", 1, kTenant, Soon());
  ASSERT_TRUE(held.ok());
  absl::Notification admitted;
  std::thread waiter([&] {
    auto ticket = controller.Admit("B", 2, kTenant, Soon());
    EXPECT_TRUE(ticket.ok());
    admitted.Notify();
  });
  EXPECT_FALSE(admitted.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  controller.SetLimits({2, 2, 100});
  EXPECT_TRUE(admitted.WaitForNotificationWithTimeout(absl::Seconds(10)));
  waiter.join();
  EXPECT_EQ(controller.limits().total, 2);

  controller.SetLimits({1, 1, 0});
  EXPECT_EQ(controller.Admit("B", 3, kTenant, Soon()).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(controller.GetStats().in_flight, 1);  // Held, not taken back.
}

TEST(AdmissionControllerTest, FreedSlotsRotateBetweenClients) {
  AdmissionController controller({1, 1, 100});
  auto held = controller.Admit("B", 0, kTenant, Soon());
  ASSERT_TRUE(held.ok());
  // Client 1 queues three requests, then client 2 queues one.
  std::mutex order_mu;
  std::vector<uint64_t> order;
  std::vector<std::thread> threads;
  auto enqueue = [&](uint64_t client) {
    threads.emplace_back([&, client] {
      auto ticket = controller.Admit("B", client, kTenant, Soon());
      ASSERT_TRUE(ticket.ok());
      std::lock_guard<std::mutex> lock(order_mu);
      order.push_back(client);
    });
    // Let it queue before the next one arrives.
    while (controller.GetStats().queued < static_cast<int>(threads.size())) {
      std::this_thread::yield();
    }
  };
  enqueue(1);
  enqueue(1);
  enqueue(1);
  enqueue(2);
  held->Release();
  for (auto& thread : threads) {
    thread.join();
  }
  // Client 2 did not wait for all of client 1's requests.
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0], 1u);
  EXPECT_EQ(order[1], 2u);
}

TEST(AdmissionControllerTest, FullQueueIsRefusedAtOnce) {
  AdmissionController controller({1, 1, /*max_queued=*/0});
  auto held = controller.Admit("B", 1, kTenant, Soon());
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(controller.Admit("B", 1, kTenant, Soon()).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(controller.GetStats().queue_full, 1u);
}

TEST(AdmissionControllerTest, StormEveryRequestEndsAndNothingLeaks) {
  AdmissionController controller({4, 8, 4096, /*per_tenant=*/8});
  std::atomic<int> ok{0}, timed_out{0}, max_seen{0};
  std::atomic<int> concurrent{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      auto ticket = controller.Admit(i % 3 == 0 ? "B" : "C", i % 7, kTenant,
                                     absl::Now() + absl::Seconds(30));
      if (!ticket.ok()) {
        ++timed_out;
        return;
      }
      int now = ++concurrent;
      int seen = max_seen.load();
      while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      --concurrent;
      ++ok;
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(ok + timed_out, 200);
  EXPECT_EQ(ok, 200);
  EXPECT_LE(max_seen, 8);
  AdmissionController::Stats stats = controller.GetStats();
  EXPECT_EQ(stats.in_flight, 0);
  EXPECT_EQ(stats.queued, 0);
}

// Issue 10, finding 5: one tenant held every handshake slot with connects
// to hosts that never answer, and root's connect then failed. A tenant now
// has a cap of its own: its excess waits while other tenants go ahead.
TEST(AdmissionControllerTest, OneTenantCannotHoldEverySlot) {
  AdmissionController controller(
      {/*per_peer=*/32, /*total=*/32, 100, /*per_tenant=*/8});
  std::vector<AdmissionController::Ticket> held;
  absl::Status refused;
  for (int i = 0; i < 32; ++i) {
    auto ticket = controller.Admit("silent", 1, 1000,
                                   absl::Now() + absl::Milliseconds(20));
    if (ticket.ok()) {
      held.push_back(*std::move(ticket));
    } else {
      refused = ticket.status();
    }
  }
  // The tenant's excess waited for its own slots, in vain...
  EXPECT_EQ(held.size(), 8u);
  EXPECT_TRUE(absl::IsDeadlineExceeded(refused)) << refused;
  EXPECT_TRUE(
      absl::StrContains(refused.message(), "--max_handshakes_per_tenant"))
      << refused;
  // ...while another tenant and root go straight in.
  auto other = controller.Admit("B", 2, 1001, absl::Now() + absl::Seconds(1));
  EXPECT_TRUE(other.ok()) << other.status();
  auto root = controller.Admit("B", 3, 0, absl::Now() + absl::Seconds(1));
  EXPECT_TRUE(root.ok()) << root.status();
  AdmissionController::TenantStats stats = controller.GetTenantStats(1000);
  EXPECT_EQ(stats.in_flight, 8);
  EXPECT_EQ(stats.queued, 0);
  EXPECT_EQ(controller.ListTenants().size(), 3u);
}

// A tenant waiting at its cap does not hold up others queued behind it.
TEST(AdmissionControllerTest, ATenantAtItsCapDoesNotBlockTheQueue) {
  AdmissionController controller({32, 32, 100, /*per_tenant=*/1});
  auto held = controller.Admit("silent", 1, 1000, Soon());
  ASSERT_TRUE(held.ok());
  std::thread waiter([&] {
    // Queued behind its own cap, so the queue is not empty...
    auto ticket = controller.Admit("silent", 1, 1000,
                                   absl::Now() + absl::Milliseconds(500));
    EXPECT_TRUE(absl::IsDeadlineExceeded(ticket.status()));
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(2);
  while (controller.GetStats().queued == 0 && absl::Now() < give_up) {
    std::this_thread::yield();
  }
  EXPECT_EQ(controller.GetStats().queued, 1);
  // ...and another tenant's arrival is admitted at once all the same.
  const absl::Time start = absl::Now();
  auto other = controller.Admit("B", 2, 1001, Soon());
  EXPECT_TRUE(other.ok());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(400));
  waiter.join();
  other->Release();
  held->Release();
  EXPECT_TRUE(controller.ListTenants().empty());
}

}  // namespace
}  // namespace swift
