// Fork mode on a real device: a forked child drives a QP its parent
// connected (WRITE, SEND, READ through ForkSafeSender), every request
// completes exactly once with the right bytes, the parent sees the results
// in shared memory and keeps using its QPs afterwards; a plain post in the
// child is refused after queuing (why ForkSafeSender exists); and the fork
// preconditions hold on registered memory.
//
// Each child reports a summary string through RunInChild(); the parent
// asserts on it and on what it can see itself. Children never run
// destructors (their inherited Qp/Cq owners would destroy the parent's
// objects).
#include <gtest/gtest.h>
#include <infiniband/verbs.h>
#include <rdma/ib_user_ioctl_verbs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/worker/fork/child_process.h"
#include "daemon/worker/fork/fork_safe_sender.h"
#include "daemon/worker/fork/fork_support.h"
#include "daemon/worker/fork/loopback_rig.h"
#include "daemon/worker/fork/provider_doorbell.h"
#include "common/status_macros.h"
#include "common/testing/rdma_test_env.h"
#include "common/verbs/context.h"
#include "common/verbs/cq.h"
#include "common/verbs/device_list.h"
#include "common/verbs/mr.h"

namespace swift {
namespace {

constexpr size_t kPage = 4096;
// Layout of the rig's shared region.
constexpr size_t kWriteSrc = 0;
constexpr size_t kSendSrc = 2048;
constexpr size_t kWriteDst = 1 * kPage;
constexpr size_t kRecv = 2 * kPage;
constexpr size_t kReadSrc = 3 * kPage;
constexpr size_t kReadDst = 4 * kPage;
constexpr size_t kRegionBytes = 5 * kPage;
// Odd lengths, so a short or long transfer shows.
constexpr uint32_t kWriteLen = 1000;
constexpr uint32_t kSendLen = 777;
constexpr uint32_t kReadLen = 1500;

constexpr absl::Duration kChildTimeout = absl::Seconds(60);
// How long to keep polling after the expected completions, to catch a
// duplicate.
constexpr absl::Duration kQuietPeriod = absl::Milliseconds(300);

// `length` bytes derived from `seed` (distinct seeds, distinct bytes).
std::vector<uint8_t> Pattern(uint64_t seed, size_t length) {
  std::vector<uint8_t> bytes(length);
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
  for (uint8_t& byte : bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    byte = static_cast<uint8_t>(x);
  }
  return bytes;
}

void Fill(uint8_t* data, uint64_t seed, size_t length) {
  const std::vector<uint8_t> bytes = Pattern(seed, length);
  std::memcpy(data, bytes.data(), length);
}

bool Holds(const uint8_t* data, uint64_t seed, size_t length) {
  return std::memcmp(data, Pattern(seed, length).data(), length) == 0;
}

bool AllZero(const uint8_t* data, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (data[i] != 0) {
      return false;
    }
  }
  return true;
}

absl::Status Check(bool condition, const std::string& what) {
  return condition ? absl::OkStatus()
                   : absl::InternalError(absl::StrCat("check failed: ", what));
}

// One signaled send-queue request of `opcode` for `sge`.
ibv_send_wr Request(ibv_wr_opcode opcode, ibv_sge* sge, uint64_t wr_id,
                    uint64_t remote_addr = 0, uint32_t rkey = 0) {
  ibv_send_wr wr = {};
  wr.wr_id = wr_id;
  wr.sg_list = sge;
  wr.num_sge = 1;
  wr.opcode = opcode;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.wr.rdma.remote_addr = remote_addr;
  wr.wr.rdma.rkey = rkey;
  return wr;
}

// Waits up to 5 s for the next completion on `cq` and checks that it is a
// successful `opcode` for `wr_id`.
absl::StatusOr<ibv_wc> ExpectCompletion(verbs::Cq& cq, uint64_t wr_id,
                                        ibv_wc_opcode opcode) {
  SWIFT_ASSIGN_OR_RETURN(ibv_wc wc, cq.WaitForCompletion(absl::Seconds(5)));
  SWIFT_RETURN_IF_ERROR(verbs::CompletionToStatus(wc));
  SWIFT_RETURN_IF_ERROR(
      Check(wc.wr_id == wr_id && wc.opcode == opcode,
            absl::StrFormat("completion wr_id=%u %s, expected wr_id=%u %s",
                            wc.wr_id, verbs::WcOpcodeName(wc.opcode), wr_id,
                            verbs::WcOpcodeName(opcode))));
  return wc;
}

// Polls `cq` for `period` and returns the wr_ids of whatever completes (the
// status of each is not checked: callers count).
std::vector<uint64_t> Drain(verbs::Cq& cq, absl::Duration period) {
  std::vector<uint64_t> wr_ids;
  const absl::Time end = absl::Now() + period;
  do {
    ibv_wc wc = {};
    while (ibv_poll_cq(cq.get(), 1, &wc) == 1) {
      wr_ids.push_back(wc.wr_id);
    }
    sched_yield();
  } while (absl::Now() < end);
  return wr_ids;
}

class ForkRdmaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = swift::testing::TestDeviceName();
    absl::StatusOr<verbs::DeviceList> devices = verbs::DeviceList::Get();
    if (!devices.ok() || !devices->Find(name).ok()) {
      if (swift::testing::RdmaRequired()) {
        FAIL() << "no RDMA device " << name << ", but SWIFT_RDMA_REQUIRED=1";
      }
      GTEST_SKIP() << "no RDMA device " << name << " on this host";
    }
    absl::StatusOr<std::shared_ptr<verbs::Context>> context =
        verbs::Context::OpenByName(name);
    ASSERT_TRUE(context.ok()) << context.status();
    uint32_t index = 0;
    if (absl::SimpleAtoi(swift::testing::EnvOr("RXE_GID_INDEX", ""), &index)) {
      gid_index_ = index;
    }
    absl::StatusOr<std::unique_ptr<LoopbackRig>> rig =
        MakeLoopbackRig(*context, kRegionBytes, gid_index_);
    ASSERT_TRUE(rig.ok()) << rig.status();
    rig_ = *std::move(rig);
    absl::StatusOr<ProviderDoorbell> doorbell =
        DetectDoorbell(rig_->context->get());
    ASSERT_TRUE(doorbell.ok()) << doorbell.status();
    doorbell_ = *std::move(doorbell);
  }

  uint8_t* at(size_t offset) const { return rig_->data() + offset; }
  bool write_command() const {
    return doorbell_.kind == DoorbellKind::kWriteCommand;
  }

  // The parent's own RDMA WRITE of `length` pattern bytes (seed `seed`)
  // from kWriteSrc to kWriteDst on QP a, through a sender: completes exactly
  // once, the bytes land, and no ioctl doorbell was needed.
  void ExpectParentWriteWorks(uint64_t seed, uint64_t wr_id) {
    absl::StatusOr<ForkSafeSender> sender =
        ForkSafeSender::Create(rig_->qp_a->get(), doorbell_);
    ASSERT_TRUE(sender.ok()) << sender.status();
    Fill(at(kWriteSrc), seed, kWriteLen);
    std::memset(at(kWriteDst), 0, kPage);
    ibv_sge sge = rig_->Sge(kWriteSrc, kWriteLen);
    ibv_send_wr wr = Request(IBV_WR_RDMA_WRITE, &sge, wr_id,
                             rig_->RemoteAddr(kWriteDst), rig_->mr->rkey());
    ASSERT_TRUE(sender->PostSend(wr).ok());
    absl::StatusOr<ibv_wc> wc =
        ExpectCompletion(*rig_->cq_a, wr_id, IBV_WC_RDMA_WRITE);
    ASSERT_TRUE(wc.ok()) << wc.status();
    EXPECT_TRUE(Holds(at(kWriteDst), seed, kWriteLen));
    EXPECT_TRUE(AllZero(at(kWriteDst + kWriteLen), kPage - kWriteLen));
    EXPECT_EQ(sender->ioctl_doorbells(), 0u) << "the opener rings by itself";
    EXPECT_TRUE(Drain(*rig_->cq_a, kQuietPeriod).empty());
  }

  // The parent's own SEND on QP a into a receive on QP b.
  void ExpectParentSendWorks(uint64_t seed, uint64_t wr_id) {
    Fill(at(kSendSrc), seed, kSendLen);
    std::memset(at(kRecv), 0, kPage);
    ASSERT_TRUE(rig_->qp_b->PostRecv(rig_->Sge(kRecv, kPage), wr_id + 1).ok());
    ASSERT_TRUE(
        rig_->qp_a->PostSend(rig_->Sge(kSendSrc, kSendLen), wr_id).ok());
    absl::StatusOr<ibv_wc> sent =
        ExpectCompletion(*rig_->cq_a, wr_id, IBV_WC_SEND);
    ASSERT_TRUE(sent.ok()) << sent.status();
    absl::StatusOr<ibv_wc> received =
        ExpectCompletion(*rig_->cq_b, wr_id + 1, IBV_WC_RECV);
    ASSERT_TRUE(received.ok()) << received.status();
    EXPECT_EQ(received->byte_len, kSendLen);
    EXPECT_TRUE(Holds(at(kRecv), seed, kSendLen));
  }

  std::optional<uint32_t> gid_index_;  // RXE_GID_INDEX, if set.
  std::unique_ptr<LoopbackRig> rig_;
  ProviderDoorbell doorbell_;
};

TEST_F(ForkRdmaTest, DetectsTheWriteCommandDoorbellOfRxe) {
  if (std::getenv("RXE_VM") == nullptr) {
    GTEST_SKIP() << "not the Soft-RoCE guest: " << doorbell_.Describe();
  }
  EXPECT_EQ(doorbell_.kind, DoorbellKind::kWriteCommand)
      << doorbell_.Describe();
  EXPECT_EQ(doorbell_.driver_id, std::optional<uint32_t>(RDMA_DRIVER_RXE))
      << doorbell_.Describe();
  EXPECT_EQ(doorbell_.kernel_driver, "") << "rxe is a virtual device";
  EXPECT_NE(doorbell_.evidence.find("(rxe) via RDMA netlink"),
            std::string::npos)
      << doorbell_.Describe();
}

TEST_F(ForkRdmaTest, ChildWriteSendReadOnInheritedQpEachCompleteOnce) {
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

TEST_F(ForkRdmaTest, ChildPostsAChainOfWritesWithOneDoorbell) {
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

// Why ForkSafeSender exists: in a child, the provider's own post queues the
// request and then fails (EACCES) without running it; posting again queues
// it a second time. One ioctl() doorbell then runs both.
TEST_F(ForkRdmaTest, PlainPostInChildFailsAfterQueuingSoARetrySendsTwice) {
  if (!write_command()) {
    GTEST_SKIP() << doorbell_.Describe() << ": the plain post works in a child";
  }
  std::memset(at(kWriteDst), 0, kPage);
  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        Fill(at(kWriteSrc), 21, 64);
        ibv_sge sge = rig_->Sge(kWriteSrc, 64);
        ibv_send_wr wr = Request(IBV_WR_RDMA_WRITE, &sge, 301,
                                 rig_->RemoteAddr(kWriteDst), rig_->mr->rkey());
        ibv_send_wr* bad = &wr;
        errno = 0;
        int first = ibv_post_send(rig_->qp_a->get(), &wr, &bad);
        first = first > 0 ? first : errno;  // siw: -1 with errno.
        const bool bad_is_null = bad == nullptr;
        // Queued but not run: nothing completes, nothing is written.
        const std::vector<uint64_t> before = Drain(*rig_->cq_a, kQuietPeriod);
        const bool untouched = AllZero(at(kWriteDst), 64);
        // The naive retry.
        errno = 0;
        int retry = ibv_post_send(rig_->qp_a->get(), &wr, &bad);
        retry = retry > 0 ? retry : errno;
        SWIFT_RETURN_IF_ERROR(RingSendDoorbellByIoctl(
            rig_->qp_a->get(), doorbell_.driver_id.value_or(0)));
        std::vector<uint64_t> after;
        const absl::Time deadline = absl::Now() + absl::Seconds(5);
        while (after.size() < 2 && absl::Now() < deadline) {
          for (uint64_t id : Drain(*rig_->cq_a, absl::ZeroDuration())) {
            after.push_back(id);
          }
        }
        for (uint64_t id : Drain(*rig_->cq_a, kQuietPeriod)) {
          after.push_back(id);
        }
        return absl::StrFormat(
            "first=%d bad_is_null=%d before_doorbell=[%s] untouched=%d "
            "retry=%d after_doorbell=[%s] written=%d",
            first, static_cast<int>(bad_is_null), absl::StrJoin(before, ","),
            static_cast<int>(untouched), retry, absl::StrJoin(after, ","),
            static_cast<int>(Holds(at(kWriteDst), 21, 64)));
      },
      kChildTimeout);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(*child, absl::StrFormat("first=%d bad_is_null=1 before_doorbell=[] "
                                    "untouched=1 retry=%d "
                                    "after_doorbell=[301,301] written=1",
                                    EACCES, EACCES));
  EXPECT_TRUE(Drain(*rig_->cq_a, kQuietPeriod).empty());
  ASSERT_NO_FATAL_FAILURE(ExpectParentWriteWorks(/*seed=*/5, /*wr_id=*/5));
}

// A chain that overflows the SQ in a child: the provider queues what fits,
// rejects the rest and has its doorbell refused; the sender rings once,
// reports the first rejected request, and exactly the queued ones complete.
TEST_F(ForkRdmaTest, ChildChainOverflowingTheSqReportsTheFirstRejected) {
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

// On a provider it does not know to queue before its doorbell, the sender
// reports an EACCES and never retries: here (rxe described as unknown) the
// request was in fact queued, and one explicit doorbell runs it once.
TEST_F(ForkRdmaTest, ChildEaccesOnAnUnknownProviderIsReportedNotRetried) {
  if (!write_command()) {
    GTEST_SKIP() << doorbell_.Describe() << ": no EACCES to provoke";
  }
  ProviderDoorbell unknown = doorbell_;
  unknown.kind = DoorbellKind::kUnknown;
  std::memset(at(kWriteDst), 0, kPage);
  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        SWIFT_ASSIGN_OR_RETURN(
            ForkSafeSender sender,
            ForkSafeSender::Create(rig_->qp_a->get(), unknown));
        Fill(at(kWriteSrc), 31, 64);
        ibv_sge sge = rig_->Sge(kWriteSrc, 64);
        ibv_send_wr wr = Request(IBV_WR_RDMA_WRITE, &sge, 601,
                                 rig_->RemoteAddr(kWriteDst), rig_->mr->rkey());
        const absl::Status posted = sender.PostSend(wr);
        const std::vector<uint64_t> before = Drain(*rig_->cq_a, kQuietPeriod);
        // Clean up for the parent: run what the provider queued.
        SWIFT_RETURN_IF_ERROR(RingSendDoorbellByIoctl(
            rig_->qp_a->get(), doorbell_.driver_id.value_or(0)));
        std::vector<uint64_t> after;
        const absl::Time deadline = absl::Now() + absl::Seconds(5);
        while (after.empty() && absl::Now() < deadline) {
          after = Drain(*rig_->cq_a, absl::ZeroDuration());
        }
        for (uint64_t id : Drain(*rig_->cq_a, kQuietPeriod)) {
          after.push_back(id);
        }
        return absl::StrFormat(
            "code=%s says_do_not_repost=%d before=[%s] after=[%s] "
            "ioctl_doorbells=%u",
            absl::StatusCodeToString(posted.code()),
            static_cast<int>(posted.message().find("do not post them again") !=
                             absl::string_view::npos),
            absl::StrJoin(before, ","), absl::StrJoin(after, ","),
            sender.ioctl_doorbells());
      },
      kChildTimeout);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(*child,
            "code=PERMISSION_DENIED says_do_not_repost=1 before=[] after=[601] "
            "ioctl_doorbells=0");
  EXPECT_TRUE(Holds(at(kWriteDst), 31, 64));
  ASSERT_NO_FATAL_FAILURE(ExpectParentWriteWorks(/*seed=*/7, /*wr_id=*/7));
}

TEST_F(ForkRdmaTest, SenderRefusesADoorbellOfAnotherDevice) {
  ProviderDoorbell other = doorbell_;
  other.device = doorbell_.device + "-other";
  EXPECT_EQ(ForkSafeSender::Create(rig_->qp_a->get(), other).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ForkSafeSender> detected =
      ForkSafeSender::Create(rig_->qp_a->get());
  ASSERT_TRUE(detected.ok()) << detected.status();
  EXPECT_EQ(detected->doorbell().kind, doorbell_.kind);
}

TEST_F(ForkRdmaTest, RingingTheDoorbellWithNothingQueuedIsHarmless) {
  if (!write_command()) {
    GTEST_SKIP() << doorbell_.Describe() << ": no command doorbell to ring";
  }
  absl::StatusOr<ForkSafeSender> sender =
      ForkSafeSender::Create(rig_->qp_a->get(), doorbell_);
  ASSERT_TRUE(sender.ok()) << sender.status();
  // In the parent, and in a child.
  ASSERT_TRUE(sender->RingDoorbell().ok());
  ASSERT_TRUE(sender->RingDoorbell().ok());
  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        SWIFT_RETURN_IF_ERROR(sender->RingDoorbell());
        return absl::StrFormat("completions=%u",
                               Drain(*rig_->cq_a, kQuietPeriod).size());
      },
      kChildTimeout);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(*child, "completions=0");
  EXPECT_TRUE(Drain(*rig_->cq_a, kQuietPeriod).empty());
  ASSERT_NO_FATAL_FAILURE(ExpectParentWriteWorks(/*seed=*/6, /*wr_id=*/6));
}

TEST_F(ForkRdmaTest, ForkPreconditionsHoldOnlyForSharedRegisteredMemory) {
  if (swift::testing::RdmaRequired()) {
    // The guest runs Debian's 6.1 kernel, which copies pinned pages.
    const absl::Status kernel = CheckCopyOnForkKernel();
    EXPECT_TRUE(kernel.ok()) << kernel;
  }
  std::vector<uint8_t> heap(2 * kPage, 0);
  absl::StatusOr<std::unique_ptr<verbs::Mr>> heap_mr = verbs::Mr::Register(
      rig_->pd, heap.data(), heap.size(), IBV_ACCESS_LOCAL_WRITE);
  ASSERT_TRUE(heap_mr.ok()) << heap_mr.status();

  const absl::Status shared = CheckSharedMemory(*rig_->mr->get());
  EXPECT_TRUE(shared.ok()) << shared;
  const absl::Status private_memory = CheckSharedMemory(*(*heap_mr)->get());
  EXPECT_EQ(private_memory.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(private_memory.message().find(
                absl::StrFormat("MR lkey=0x%x", (*heap_mr)->lkey())),
            absl::string_view::npos)
      << private_memory;
  EXPECT_NE(private_memory.message().find("snapshot in the child"),
            absl::string_view::npos)
      << private_memory;

  // A child, which is where libswift checks, sees the same.
  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        return absl::StrFormat(
            "kernel=%d shared=%d private=%d",
            static_cast<int>(CheckCopyOnForkKernel().code()),
            static_cast<int>(CheckSharedMemory(*rig_->mr->get()).code()),
            static_cast<int>(CheckSharedMemory(*(*heap_mr)->get()).code()));
      },
      kChildTimeout);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(
      *child,
      absl::StrFormat("kernel=%d shared=0 private=%d",
                      static_cast<int>(CheckCopyOnForkKernel().code()),
                      static_cast<int>(absl::StatusCode::kFailedPrecondition)));
}

}  // namespace
}  // namespace swift
