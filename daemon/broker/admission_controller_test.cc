#include "daemon/broker/admission_controller.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

TEST(AdmissionControllerTest, AdmitsUpToThePerPeerLimitThenQueues) {
  AdmissionController controller({/*per_peer=*/2, /*total=*/10, 100});
  auto first = controller.Admit("B", 1, Soon());
  auto second = controller.Admit("B", 1, Soon());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(controller.GetStats().in_flight, 2);

  // A third toward B times out while the two are held...
  auto third = controller.Admit("B", 1, absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(third.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(controller.GetStats().queued, 0);
  EXPECT_EQ(controller.GetStats().timed_out, 1u);
  // ...while another peer still has room.
  auto other_peer = controller.Admit("C", 1, Soon());
  EXPECT_TRUE(other_peer.ok());
}

TEST(AdmissionControllerTest, ReleasingATicketAdmitsTheNextWaiter) {
  AdmissionController controller({1, 1, 100});
  auto held = controller.Admit("B", 1, Soon());
  ASSERT_TRUE(held.ok());
  absl::Notification admitted;
  std::thread waiter([&] {
    auto ticket = controller.Admit("B", 2, Soon());
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

TEST(AdmissionControllerTest, FreedSlotsRotateBetweenClients) {
  AdmissionController controller({1, 1, 100});
  auto held = controller.Admit("B", 0, Soon());
  ASSERT_TRUE(held.ok());
  // Client 1 queues three requests, then client 2 queues one.
  std::mutex order_mu;
  std::vector<uint64_t> order;
  std::vector<std::thread> threads;
  auto enqueue = [&](uint64_t client) {
    threads.emplace_back([&, client] {
      auto ticket = controller.Admit("B", client, Soon());
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
  auto held = controller.Admit("B", 1, Soon());
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(controller.Admit("B", 1, Soon()).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(controller.GetStats().queue_full, 1u);
}

TEST(AdmissionControllerTest, StormEveryRequestEndsAndNothingLeaks) {
  AdmissionController controller({4, 8, 4096});
  std::atomic<int> ok{0}, timed_out{0}, max_seen{0};
  std::atomic<int> concurrent{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      auto ticket = controller.Admit(i % 3 == 0 ? "B" : "C", i % 7,
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

}  // namespace
}  // namespace swift
