// ForkRdmaTest's scenery and helpers; see fork_rdma_fixture.h.
#include "daemon/worker/fork/fork_rdma_fixture.h"

#include <sched.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/testing/rdma_test_env.h"
#include "common/verbs/context.h"
#include "common/verbs/device_list.h"
#include "common/verbs/post_and_wait.h"
#include "daemon/worker/fork/fork_safe_sender.h"

namespace swift::fork_testing {

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

ibv_send_wr Request(ibv_wr_opcode opcode, ibv_sge* sge, uint64_t wr_id,
                    uint64_t remote_addr, uint32_t rkey) {
  // (A SEND ignores the remote fields.)
  return verbs::SignaledRdmaRequest(opcode, sge, remote_addr, rkey, wr_id);
}

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

void ForkRdmaTest::SetUp() {
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

void ForkRdmaTest::ExpectParentWriteWorks(uint64_t seed, uint64_t wr_id) {
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

void ForkRdmaTest::ExpectParentSendWorks(uint64_t seed, uint64_t wr_id) {
  Fill(at(kSendSrc), seed, kSendLen);
  std::memset(at(kRecv), 0, kPage);
  ASSERT_TRUE(rig_->qp_b->PostRecv(rig_->Sge(kRecv, kPage), wr_id + 1).ok());
  ASSERT_TRUE(rig_->qp_a->PostSend(rig_->Sge(kSendSrc, kSendLen), wr_id).ok());
  absl::StatusOr<ibv_wc> sent =
      ExpectCompletion(*rig_->cq_a, wr_id, IBV_WC_SEND);
  ASSERT_TRUE(sent.ok()) << sent.status();
  absl::StatusOr<ibv_wc> received =
      ExpectCompletion(*rig_->cq_b, wr_id + 1, IBV_WC_RECV);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->byte_len, kSendLen);
  EXPECT_TRUE(Holds(at(kRecv), seed, kSendLen));
}

}  // namespace swift::fork_testing
