// Fork mode on a real device, the data path: a forked child drives QPs its
// parent connected (WRITE, SEND, READ, a chain, a chain that overflows the
// SQ) through ForkSafeSender; every request completes exactly once with
// the right bytes, the parent sees the results in shared memory and keeps
// using its QPs afterwards. (Scenery: fork_rdma_fixture.h.)
#include <gtest/gtest.h>
#include <infiniband/verbs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/testing/rdma_test_env.h"
#include "common/verbs/mr.h"
#include "daemon/worker/fork/child_process.h"
#include "daemon/worker/fork/fork_rdma_fixture.h"
#include "daemon/worker/fork/fork_safe_sender.h"
#include "daemon/worker/fork/fork_support.h"
#include "daemon/worker/fork/provider_doorbell.h"

namespace swift::fork_testing {
namespace {

using ForkSendRdmaTest = ForkRdmaTest;

TEST_F(ForkSendRdmaTest, ChildWriteSendReadOnInheritedQpEachCompleteOnce) {
  ASSERT_NO_FATAL_FAILURE(ExpectParentWriteWorks(/*seed=*/1, /*wr_id=*/1));
  std::memset(at(kWriteDst), 0, kPage);
  std::memset(at(kRecv), 0, kPage);
  std::memset(at(kReadDst), 0, kPage);
  Fill(at(kReadSrc), /*seed=*/13, kReadLen);  // What the child will READ.

  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        SWIFT_ASSIGN_OR_RETURN(
            ForkSafeSender sender,
            ForkSafeSender::Create(rig_->qp_a->get(), doorbell_));
        // CPU stores into shared memory: the NIC sees them.
        Fill(at(kWriteSrc), 11, kWriteLen);
        Fill(at(kSendSrc), 12, kSendLen);
        // A receive on the inherited QP b for the SEND.
        SWIFT_RETURN_IF_ERROR(
            rig_->qp_b->PostRecv(rig_->Sge(kRecv, kPage), 200));

        ibv_sge write_sge = rig_->Sge(kWriteSrc, kWriteLen);
        ibv_send_wr write =
            Request(IBV_WR_RDMA_WRITE, &write_sge, 101,
                    rig_->RemoteAddr(kWriteDst), rig_->mr->rkey());
        SWIFT_RETURN_IF_ERROR(sender.PostSend(write));
        SWIFT_RETURN_IF_ERROR(
            ExpectCompletion(*rig_->cq_a, 101, IBV_WC_RDMA_WRITE).status());
        SWIFT_RETURN_IF_ERROR(
            Check(Holds(at(kWriteDst), 11, kWriteLen), "WRITE bytes"));

        ibv_sge send_sge = rig_->Sge(kSendSrc, kSendLen);
        ibv_send_wr send = Request(IBV_WR_SEND, &send_sge, 102);
        SWIFT_RETURN_IF_ERROR(sender.PostSend(send));
        SWIFT_RETURN_IF_ERROR(
            ExpectCompletion(*rig_->cq_a, 102, IBV_WC_SEND).status());
        SWIFT_ASSIGN_OR_RETURN(ibv_wc received,
                               ExpectCompletion(*rig_->cq_b, 200, IBV_WC_RECV));
        SWIFT_RETURN_IF_ERROR(
            Check(received.byte_len == kSendLen,
                  absl::StrCat("RECV byte_len ", received.byte_len)));

        ibv_sge read_sge = rig_->Sge(kReadDst, kReadLen);
        ibv_send_wr read =
            Request(IBV_WR_RDMA_READ, &read_sge, 103,
                    rig_->RemoteAddr(kReadSrc), rig_->mr->rkey());
        SWIFT_RETURN_IF_ERROR(sender.PostSend(read));
        SWIFT_RETURN_IF_ERROR(
            ExpectCompletion(*rig_->cq_a, 103, IBV_WC_RDMA_READ).status());
        SWIFT_RETURN_IF_ERROR(
            Check(Holds(at(kReadDst), 13, kReadLen), "READ bytes"));

        // A request sent twice would complete twice, on both sides for
        // the SEND: nothing more may arrive.
        const std::vector<uint64_t> extra_a = Drain(*rig_->cq_a, kQuietPeriod);
        const std::vector<uint64_t> extra_b = Drain(*rig_->cq_b, kQuietPeriod);
        return absl::StrFormat(
            "posts=%u ioctl_doorbells=%u extra_a=[%s] extra_b=[%s]",
            sender.posts(), sender.ioctl_doorbells(),
            absl::StrJoin(extra_a, ","), absl::StrJoin(extra_b, ","));
      },
      kChildTimeout);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(*child,
            absl::StrFormat("posts=3 ioctl_doorbells=%d extra_a=[] extra_b=[]",
                            write_command() ? 3 : 0))
      << doorbell_.Describe();

  // The parent sees what the child's requests did to the shared memory.
  EXPECT_TRUE(Holds(at(kWriteDst), 11, kWriteLen)) << "child's WRITE";
  EXPECT_TRUE(AllZero(at(kWriteDst + kWriteLen), kPage - kWriteLen));
  EXPECT_TRUE(Holds(at(kRecv), 12, kSendLen)) << "child's SEND";
  EXPECT_TRUE(AllZero(at(kRecv + kSendLen), kPage - kSendLen));
  EXPECT_TRUE(Holds(at(kReadDst), 13, kReadLen)) << "child's READ";
  EXPECT_TRUE(AllZero(at(kReadDst + kReadLen), kPage - kReadLen));
  // The child consumed every completion; none is left or duplicated.
  EXPECT_TRUE(Drain(*rig_->cq_a, kQuietPeriod).empty());
  EXPECT_TRUE(Drain(*rig_->cq_b, kQuietPeriod).empty());

  // The QPs go back to the parent, which keeps using them.
  ASSERT_NO_FATAL_FAILURE(ExpectParentWriteWorks(/*seed=*/2, /*wr_id=*/2));
  ASSERT_NO_FATAL_FAILURE(ExpectParentSendWorks(/*seed=*/3, /*wr_id=*/3));
}

TEST_F(ForkSendRdmaTest, ChildPostsAChainOfWritesWithOneDoorbell) {
  std::memset(at(kWriteDst), 0, kPage);
  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        SWIFT_ASSIGN_OR_RETURN(
            ForkSafeSender sender,
            ForkSafeSender::Create(rig_->qp_a->get(), doorbell_));
        constexpr int kChain = 3;
        constexpr uint32_t kPiece = 500;
        ibv_sge sges[kChain];
        ibv_send_wr wrs[kChain];
        for (int i = 0; i < kChain; ++i) {
          Fill(at(kWriteSrc + i * kPiece), 40 + i, kPiece);
          sges[i] = rig_->Sge(kWriteSrc + i * kPiece, kPiece);
          wrs[i] = Request(IBV_WR_RDMA_WRITE, &sges[i], 401 + i,
                           rig_->RemoteAddr(kWriteDst + i * kPiece),
                           rig_->mr->rkey());
          if (i > 0) {
            wrs[i - 1].next = &wrs[i];
          }
        }
        SWIFT_RETURN_IF_ERROR(sender.PostSend(wrs[0]));
        for (int i = 0; i < kChain; ++i) {
          SWIFT_RETURN_IF_ERROR(
              ExpectCompletion(*rig_->cq_a, 401 + i, IBV_WC_RDMA_WRITE)
                  .status());
          SWIFT_RETURN_IF_ERROR(Check(
              Holds(at(kWriteDst + i * kPiece), 40 + i, kPiece), "piece"));
        }
        const std::vector<uint64_t> extra = Drain(*rig_->cq_a, kQuietPeriod);
        return absl::StrFormat("ioctl_doorbells=%u extra=[%s]",
                               sender.ioctl_doorbells(),
                               absl::StrJoin(extra, ","));
      },
      kChildTimeout);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(*child, absl::StrFormat("ioctl_doorbells=%d extra=[]",
                                    write_command() ? 1 : 0));
  EXPECT_TRUE(Holds(at(kWriteDst + 1000), 42, 500)) << "third piece";
  ASSERT_NO_FATAL_FAILURE(ExpectParentWriteWorks(/*seed=*/4, /*wr_id=*/4));
}

// A chain that overflows the SQ in a child: the provider queues what fits,
// rejects the rest and has its doorbell refused; the sender rings once,
// reports the first rejected request, and exactly the queued ones complete.
TEST_F(ForkSendRdmaTest, ChildChainOverflowingTheSqReportsTheFirstRejected) {
  absl::StatusOr<std::unique_ptr<LoopbackRig>> small = MakeLoopbackRig(
      rig_->context, kRegionBytes, gid_index_, /*max_send_wr=*/4);
  ASSERT_TRUE(small.ok()) << small.status();
  LoopbackRig& rig = **small;
  // Providers round the SQ up (rxe: to a power of two, minus one) without
  // always saying so: post far more than it can hold, fewer than the CQ.
  constexpr int kChain = 40;
  ASSERT_LT(static_cast<int>(rig.qp_a->capacity().max_send_wr), kChain);
  std::memset(rig.data() + kPage, 0, kPage);

  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        SWIFT_ASSIGN_OR_RETURN(
            ForkSafeSender sender,
            ForkSafeSender::Create(rig.qp_a->get(), doorbell_));
        std::vector<ibv_sge> sges(kChain);
        std::vector<ibv_send_wr> wrs(kChain);
        for (int i = 0; i < kChain; ++i) {
          rig.data()[i] = static_cast<uint8_t>(0x80 + i);
          sges[i] = rig.Sge(i, 1);
          wrs[i] = Request(IBV_WR_RDMA_WRITE, &sges[i], 500 + i,
                           rig.RemoteAddr(kPage + i), rig.mr->rkey());
          if (i > 0) {
            wrs[i - 1].next = &wrs[i];
          }
        }
        const absl::Status posted = sender.PostSend(wrs[0]);
        std::vector<uint64_t> completed;
        for (;;) {  // Until the SQ's worth has completed and all is quiet.
          const std::vector<uint64_t> more = Drain(*rig.cq_a, kQuietPeriod);
          if (more.empty()) {
            break;
          }
          completed.insert(completed.end(), more.begin(), more.end());
        }
        const int queued = static_cast<int>(completed.size());
        bool in_order = true;
        for (int i = 0; i < queued; ++i) {
          in_order = in_order && completed[i] == static_cast<uint64_t>(500 + i);
        }
        int written = 0;
        for (int i = 0; i < kChain; ++i) {
          written += rig.data()[kPage + i] == 0x80 + i ? 1 : 0;
        }
        return absl::StrFormat(
            "code=%s names_first_rejected=%d some_rejected=%d "
            "completions_in_order_once=%d written_equals_completed=%d "
            "ioctl_doorbells=%u",
            absl::StatusCodeToString(posted.code()),
            static_cast<int>(
                posted.message().find(absl::StrCat("wr_id=", 500 + queued)) !=
                absl::string_view::npos),
            static_cast<int>(queued > 0 && queued < kChain),
            static_cast<int>(in_order), static_cast<int>(written == queued),
            sender.ioctl_doorbells());
      },
      kChildTimeout);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(*child,
            absl::StrFormat("code=RESOURCE_EXHAUSTED names_first_rejected=1 "
                            "some_rejected=1 completions_in_order_once=1 "
                            "written_equals_completed=1 ioctl_doorbells=%d",
                            write_command() ? 1 : 0))
      << doorbell_.Describe();
}

}  // namespace
}  // namespace swift::fork_testing
