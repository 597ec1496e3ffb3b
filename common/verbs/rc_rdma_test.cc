// RC queue pairs on a real device: the state machine, and SEND/RECV, RDMA
// WRITE and RDMA READ moving exactly the bytes asked for, on private and on
// memfd-shared memory, on one device and across two.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/unique_fd.h"
#include "common/verbs/cq.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/mr.h"
#include "common/verbs/qp.h"
#include "common/verbs/qp_transitions.h"
#include "common/verbs/rdma_test_util.h"
#include "common/verbs/shared_region.h"

namespace swift::verbs {
namespace {

using ::swift::verbs::testing::ConnectRc;
using ::swift::verbs::testing::FillPattern;
using ::swift::verbs::testing::MakeRcSide;
using ::swift::verbs::testing::Memory;
using ::swift::verbs::testing::RcSide;
using ::swift::verbs::testing::RdmaTest;
using ::swift::verbs::testing::TestDevice;
using ::swift::verbs::testing::WaitForSuccess;

constexpr size_t kBufferBytes = 8192;
constexpr uint8_t kUntouched = 0xee;

// Whether `size` bytes at `data` all equal `value`.
bool AllBytesAre(const uint8_t* data, size_t size, uint8_t value) {
  for (size_t i = 0; i < size; ++i) {
    if (data[i] != value) {
      return false;
    }
  }
  return true;
}

// SEND of `length` bytes from a to b, checked byte for byte on b, including
// that nothing past `length` was touched.
void ExpectSendRecvMovesExactBytes(RcSide& a, RcSide& b, size_t length) {
  std::memset(b.data(), kUntouched, b.size());
  FillPattern(a.data(), length, 0x5e4d);
  ASSERT_TRUE(b.qp->PostRecv(b.mr->Sge(0, b.size()), 100).ok());
  ASSERT_TRUE(a.qp->PostSend(a.mr->Sge(0, length), 200).ok());
  absl::StatusOr<ibv_wc> sent = WaitForSuccess(*a.cq, 200);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->opcode, IBV_WC_SEND);
  absl::StatusOr<ibv_wc> received = WaitForSuccess(*b.cq, 100);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->opcode, IBV_WC_RECV);
  EXPECT_EQ(received->byte_len, length);
  EXPECT_EQ(received->qp_num, b.qp->qpn());
  EXPECT_EQ(std::memcmp(b.data(), a.data(), length), 0);
  EXPECT_TRUE(AllBytesAre(b.data() + length, b.size() - length, kUntouched));
}

// RDMA WRITE of `length` bytes from a into b at `offset`, checked on b.
void ExpectWriteMovesExactBytes(RcSide& a, RcSide& b, size_t offset,
                                size_t length) {
  std::memset(b.data(), kUntouched, b.size());
  FillPattern(a.data(), length, 0xc0ffee);
  const RemoteBuffer remote = b.Endpoint().buffer.value();
  ASSERT_TRUE(a.qp->PostWrite(a.mr->Sge(0, length), remote.addr + offset,
                              remote.rkey, 300)
                  .ok());
  absl::StatusOr<ibv_wc> written = WaitForSuccess(*a.cq, 300);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->opcode, IBV_WC_RDMA_WRITE);
  EXPECT_EQ(std::memcmp(b.data() + offset, a.data(), length), 0);
  EXPECT_TRUE(AllBytesAre(b.data(), offset, kUntouched));
  EXPECT_TRUE(AllBytesAre(b.data() + offset + length,
                          b.size() - offset - length, kUntouched));
}

class RcRdmaTest : public RdmaTest {
 protected:
  // Two RC sides on the test device, sharing one context; b's memory is
  // `b_memory`.
  void MakePair(Memory b_memory = Memory::kHeap) {
    absl::StatusOr<std::unique_ptr<RcSide>> a =
        MakeRcSide(device(), kBufferBytes);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    absl::StatusOr<std::unique_ptr<RcSide>> b = MakeRcSide(
        device(), kBufferBytes, b_memory, /*with_channel=*/false, a_->context);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = std::move(*b);
  }

  void MakeConnectedPair(Memory b_memory = Memory::kHeap) {
    MakePair(b_memory);
    if (HasFatalFailure()) {
      return;
    }
    absl::Status connected = ConnectRc(*a_, *b_);
    ASSERT_TRUE(connected.ok()) << connected;
  }

  std::unique_ptr<RcSide> a_;
  std::unique_ptr<RcSide> b_;
};

TEST_F(RcRdmaTest, TransitionsWalkResetInitRtrRts) {
  ASSERT_NO_FATAL_FAILURE(MakePair());
  EXPECT_EQ(*a_->qp->QueryState(), IBV_QPS_RESET);
  ASSERT_TRUE(ModifyRcToInit(*a_->qp, a_->port.port_num).ok());
  ASSERT_TRUE(ModifyRcToInit(*b_->qp, b_->port.port_num).ok());
  EXPECT_EQ(*a_->qp->QueryState(), IBV_QPS_INIT);
  ASSERT_TRUE(ModifyRcToRtr(*a_->qp, a_->port, b_->Endpoint()).ok());
  EXPECT_EQ(*a_->qp->QueryState(), IBV_QPS_RTR);
  ASSERT_TRUE(ModifyRcToRts(*a_->qp, a_->psn).ok());
  EXPECT_EQ(*a_->qp->QueryState(), IBV_QPS_RTS);
  ASSERT_TRUE(ModifyToError(*a_->qp).ok());
  EXPECT_EQ(*a_->qp->QueryState(), IBV_QPS_ERR);
  ASSERT_TRUE(ModifyToReset(*a_->qp).ok());
  EXPECT_EQ(*a_->qp->QueryState(), IBV_QPS_RESET);
}

TEST_F(RcRdmaTest, OutOfOrderTransitionFailsNamingTransitionAndQpn) {
  ASSERT_NO_FATAL_FAILURE(MakePair());
  // RESET -> RTS skips INIT and RTR: the kernel refuses.
  const absl::Status status = ModifyRcToRts(*a_->qp, a_->psn);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("ibv_modify_qp(RTR->RTS)"),
            absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find(absl::StrFormat("qpn=0x%x", a_->qp->qpn())),
            absl::string_view::npos)
      << status;
  EXPECT_EQ(*a_->qp->QueryState(), IBV_QPS_RESET);
  // A UD transition on an RC QP is refused before reaching the kernel.
  EXPECT_EQ(ModifyUdToInit(*a_->qp, 1, 0x1111).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RcRdmaTest, SendRecvMovesExactBytes) {
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair());
  ExpectSendRecvMovesExactBytes(*a_, *b_, 3000);
  ExpectSendRecvMovesExactBytes(*b_, *a_, 1);  // And the other way.
}

TEST_F(RcRdmaTest, RdmaWriteMovesExactBytes) {
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair());
  ExpectWriteMovesExactBytes(*a_, *b_, 512, 5000);
}

TEST_F(RcRdmaTest, RdmaReadMovesExactBytes) {
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair());
  constexpr size_t kOffset = 100;
  constexpr size_t kLength = 4000;
  FillPattern(b_->data(), b_->size(), 0xbead);
  std::memset(a_->data(), kUntouched, a_->size());
  const RemoteBuffer remote = b_->Endpoint().buffer.value();
  ASSERT_TRUE(a_->qp
                  ->PostRead(a_->mr->Sge(0, kLength), remote.addr + kOffset,
                             remote.rkey, 400)
                  .ok());
  absl::StatusOr<ibv_wc> read = WaitForSuccess(*a_->cq, 400);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->opcode, IBV_WC_RDMA_READ);
  EXPECT_EQ(std::memcmp(a_->data(), b_->data() + kOffset, kLength), 0);
  EXPECT_TRUE(
      AllBytesAre(a_->data() + kLength, a_->size() - kLength, kUntouched));
}

TEST_F(RcRdmaTest, WriteLandsInMemfdRegionAndEveryMappingSeesIt) {
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(Memory::kMemfd));
  ASSERT_TRUE(b_->region.has_value());
  // A second mapping of the same memfd: what a forked child or a process
  // that received the fd over SCM_RIGHTS would map.
  absl::StatusOr<SharedRegion> other_view =
      SharedRegion::FromFd(UniqueFd(dup(b_->region->fd())));
  ASSERT_TRUE(other_view.ok()) << other_view.status();
  ExpectWriteMovesExactBytes(*a_, *b_, 0, 4096);
  EXPECT_EQ(std::memcmp(other_view->data(), a_->data(), 4096), 0);
}

TEST_F(RcRdmaTest, WriteWithWrongRkeyFailsAsPermissionDenied) {
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair());
  const RemoteBuffer remote = b_->Endpoint().buffer.value();
  ASSERT_TRUE(a_->qp
                  ->PostWrite(a_->mr->Sge(0, 64), remote.addr,
                              remote.rkey ^ 0x5a5a00, 500)
                  .ok());
  absl::StatusOr<ibv_wc> wc = a_->cq->WaitForCompletion(absl::Seconds(5));
  ASSERT_TRUE(wc.ok()) << wc.status();
  const absl::Status status = CompletionToStatus(*wc);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_EQ(wc->wr_id, 500u);
}

// Two devices joined by a wire (rxeA/rxeB over a veth pair in the guest):
// the same traffic crosses the network instead of looping back.
TEST(RcTwoHostsRdmaTest, WriteAndSendCrossTheWire) {
  auto devices = testing::TwoHostDevices();
  if (!devices) {
    GTEST_SKIP() << "RXE_HOSTS != 2: no two-host setup";
  }
  const auto& [a_device, b_device] = *devices;
  ASSERT_TRUE(testing::DeviceExists(a_device.name)) << a_device.name;
  ASSERT_TRUE(testing::DeviceExists(b_device.name)) << b_device.name;
  absl::StatusOr<std::unique_ptr<RcSide>> a =
      MakeRcSide(a_device, kBufferBytes);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::unique_ptr<RcSide>> b =
      MakeRcSide(b_device, kBufferBytes, Memory::kMemfd);
  ASSERT_TRUE(b.ok()) << b.status();
  // Different devices, different addresses: the packets must cross.
  EXPECT_NE(std::memcmp((*a)->port.gid.raw, (*b)->port.gid.raw, 16), 0);
  absl::Status connected = ConnectRc(**a, **b);
  ASSERT_TRUE(connected.ok()) << connected;
  ExpectWriteMovesExactBytes(**a, **b, 64, 4096);
  ExpectWriteMovesExactBytes(**b, **a, 0, 8192);
  ExpectSendRecvMovesExactBytes(**b, **a, 2048);
}

}  // namespace
}  // namespace swift::verbs
