// CQ events on a real device: an armed CQ reports a completion on its
// channel, events are counted and acknowledged, and teardown never hangs on
// an unacknowledged event.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "absl/time/time.h"
#include "common/verbs/cq.h"
#include "common/verbs/qp.h"
#include "common/verbs/rdma_test_util.h"

namespace swift::verbs {
namespace {

using ::swift::verbs::testing::ConnectRc;
using ::swift::verbs::testing::MakeRcSide;
using ::swift::verbs::testing::Memory;
using ::swift::verbs::testing::RcSide;
using ::swift::verbs::testing::RdmaTest;

class CqRdmaTest : public RdmaTest {
 protected:
  void SetUp() override {
    RdmaTest::SetUp();
    if (IsSkipped() || HasFailure()) {
      return;
    }
    // A has a completion channel; B shares A's device context.
    absl::StatusOr<std::unique_ptr<RcSide>> a =
        MakeRcSide(device(), 4096, Memory::kHeap, /*with_channel=*/true);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    absl::StatusOr<std::unique_ptr<RcSide>> b = MakeRcSide(
        device(), 4096, Memory::kHeap, /*with_channel=*/false, a_->context);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = std::move(*b);
    ASSERT_TRUE(ConnectRc(*a_, *b_).ok());
  }

  // Posts one signaled 64-byte WRITE from A into B.
  void PostWrite(uint64_t wr_id) {
    ASSERT_TRUE(a_->qp
                    ->PostWrite(a_->mr->Sge(0, 64), b_->mr->Remote().addr,
                                b_->mr->rkey(), wr_id)
                    .ok());
  }

  std::unique_ptr<RcSide> a_;
  std::unique_ptr<RcSide> b_;
};

TEST_F(CqRdmaTest, NoEventWithoutACompletion) {
  ASSERT_TRUE(a_->cq->RequestNotify().ok());
  absl::StatusOr<Cq*> event =
      a_->channel->WaitForEvent(absl::Milliseconds(100));
  EXPECT_EQ(event.status().code(), absl::StatusCode::kDeadlineExceeded)
      << event.status();
  EXPECT_EQ(a_->cq->unacked_events(), 0u);
}

TEST_F(CqRdmaTest, ArmedCqReportsCompletionOnItsChannelAndAcksIt) {
  for (uint64_t round = 1; round <= 2; ++round) {
    SCOPED_TRACE(round);
    ASSERT_TRUE(a_->cq->RequestNotify().ok());
    std::memset(a_->data(), static_cast<int>(round), 64);
    PostWrite(round);
    absl::StatusOr<Cq*> event = a_->channel->WaitForEvent(absl::Seconds(5));
    ASSERT_TRUE(event.ok()) << event.status();
    EXPECT_EQ(*event, a_->cq.get());
    EXPECT_EQ(a_->cq->unacked_events(), 1u);

    ibv_wc wc = {};
    absl::StatusOr<int> polled = a_->cq->Poll(&wc, 1);
    ASSERT_TRUE(polled.ok()) << polled.status();
    ASSERT_EQ(*polled, 1);
    EXPECT_TRUE(CompletionToStatus(wc).ok()) << CompletionToStatus(wc);
    EXPECT_EQ(wc.wr_id, round);
    EXPECT_EQ(wc.opcode, IBV_WC_RDMA_WRITE);
    EXPECT_EQ(b_->data()[63], round);  // The write really landed.

    a_->cq->AckEvents();
    EXPECT_EQ(a_->cq->unacked_events(), 0u);
  }
}

TEST_F(CqRdmaTest, DestroyAcksOutstandingEventsInsteadOfHanging) {
  ASSERT_TRUE(a_->cq->RequestNotify().ok());
  PostWrite(7);
  absl::StatusOr<Cq*> event = a_->channel->WaitForEvent(absl::Seconds(5));
  ASSERT_TRUE(event.ok()) << event.status();
  ASSERT_EQ(a_->cq->unacked_events(), 1u);
  // ibv_destroy_cq would block forever on an unacked event; Destroy() acks.
  ASSERT_TRUE(a_->qp->Destroy().ok());
  EXPECT_TRUE(a_->cq->Destroy().ok());
  EXPECT_EQ(a_->cq->unacked_events(), 0u);
}

}  // namespace
}  // namespace swift::verbs
