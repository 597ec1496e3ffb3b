// UD queue pairs on a real device: a datagram arrives byte for byte behind
// its 40-byte GRH, from the QP that sent it.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/verbs/address_handle.h"
#include "common/verbs/cq.h"
#include "common/verbs/device_info.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/mr.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "common/verbs/qp.h"
#include "common/verbs/qp_transitions.h"
#include "common/verbs/rdma_test_util.h"

namespace swift::verbs {
namespace {

using ::swift::verbs::testing::FillPattern;
using ::swift::verbs::testing::RdmaTest;
using ::swift::verbs::testing::WaitForSuccess;

constexpr uint32_t kQkey = 0x11111111;
constexpr size_t kGrhBytes = 40;  // Precedes every UD receive.
constexpr size_t kMessageBytes = 512;

class UdRdmaTest : public RdmaTest {};

TEST_F(UdRdmaTest, SendDeliversExactBytesAfterTheGrh) {
  absl::StatusOr<std::shared_ptr<Context>> context =
      Context::OpenByName(device().name);
  ASSERT_TRUE(context.ok()) << context.status();
  absl::StatusOr<std::shared_ptr<Pd>> pd = Pd::Allocate(*context);
  ASSERT_TRUE(pd.ok()) << pd.status();
  absl::StatusOr<std::shared_ptr<Cq>> cq = Cq::Create(*context, 16);
  ASSERT_TRUE(cq.ok()) << cq.status();
  absl::StatusOr<PortAddress> port =
      QueryPortAddress(**context, 1, device().gid_index);
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_LE(kMessageBytes, MtuBytes(port->active_mtu));

  std::vector<uint8_t> memory(2 * 4096, 0xee);
  absl::StatusOr<std::unique_ptr<Mr>> mr =
      Mr::Register(*pd, memory.data(), memory.size(), IBV_ACCESS_LOCAL_WRITE);
  ASSERT_TRUE(mr.ok()) << mr.status();
  uint8_t* send_buffer = memory.data();
  uint8_t* recv_buffer = memory.data() + 4096;

  absl::StatusOr<std::unique_ptr<Qp>> sender =
      Qp::Create(*pd, *cq, *cq, IBV_QPT_UD);
  ASSERT_TRUE(sender.ok()) << sender.status();
  absl::StatusOr<std::unique_ptr<Qp>> receiver =
      Qp::Create(*pd, *cq, *cq, IBV_QPT_UD);
  ASSERT_TRUE(receiver.ok()) << receiver.status();
  for (Qp* qp : {sender->get(), receiver->get()}) {
    ASSERT_TRUE(ModifyUdToInit(*qp, port->port_num, kQkey).ok());
    ASSERT_TRUE(ModifyUdToRtr(*qp).ok());
    ASSERT_TRUE(ModifyUdToRts(*qp, RandomPsn()).ok());
    EXPECT_EQ(*qp->QueryState(), IBV_QPS_RTS);
  }

  // The receiver's endpoint travels through its wire form, as it would.
  QpEndpoint target = MakeEndpoint(*port, (*receiver)->qpn(), 0);
  target.qkey = kQkey;
  absl::StatusOr<QpEndpoint> seen = DecodeEndpoint(EncodeEndpoint(target));
  ASSERT_TRUE(seen.ok()) << seen.status();
  absl::StatusOr<std::unique_ptr<AddressHandle>> ah =
      AddressHandle::Create(*pd, MakeAhAttr(*port, *seen));
  ASSERT_TRUE(ah.ok()) << ah.status();

  ASSERT_TRUE((*receiver)
                  ->PostRecv((*mr)->Sge(4096, kGrhBytes + kMessageBytes), 1)
                  .ok());
  FillPattern(send_buffer, kMessageBytes, 0x0d);
  ASSERT_TRUE((*sender)
                  ->PostUdSend((*mr)->Sge(0, kMessageBytes), **ah, seen->qpn,
                               seen->qkey, 2)
                  .ok());

  // Both completions land on the shared CQ, in either order.
  bool sent = false;
  bool received = false;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<ibv_wc> wc = (*cq)->WaitForCompletion(absl::Seconds(5));
    ASSERT_TRUE(wc.ok()) << wc.status();
    ASSERT_TRUE(CompletionToStatus(*wc).ok()) << CompletionToStatus(*wc);
    if (wc->wr_id == 2) {
      EXPECT_EQ(wc->opcode, IBV_WC_SEND);
      sent = true;
    } else {
      ASSERT_EQ(wc->wr_id, 1u);
      EXPECT_EQ(wc->opcode, IBV_WC_RECV);
      EXPECT_EQ(wc->byte_len, kGrhBytes + kMessageBytes);
      EXPECT_EQ(wc->src_qp, (*sender)->qpn());
      EXPECT_TRUE(wc->wc_flags & IBV_WC_GRH);
      received = true;
    }
  }
  EXPECT_TRUE(sent);
  EXPECT_TRUE(received);
  EXPECT_EQ(std::memcmp(recv_buffer + kGrhBytes, send_buffer, kMessageBytes),
            0);
  // Nothing past the message was written.
  EXPECT_EQ(recv_buffer[kGrhBytes + kMessageBytes], 0xee);
}

// A UD datagram with the wrong Q_Key is dropped by the receiver: no receive
// completion arrives.
TEST_F(UdRdmaTest, WrongQkeyIsDropped) {
  absl::StatusOr<std::shared_ptr<Context>> context =
      Context::OpenByName(device().name);
  ASSERT_TRUE(context.ok()) << context.status();
  absl::StatusOr<std::shared_ptr<Pd>> pd = Pd::Allocate(*context);
  ASSERT_TRUE(pd.ok()) << pd.status();
  absl::StatusOr<std::shared_ptr<Cq>> send_cq = Cq::Create(*context, 16);
  absl::StatusOr<std::shared_ptr<Cq>> recv_cq = Cq::Create(*context, 16);
  ASSERT_TRUE(send_cq.ok() && recv_cq.ok());
  absl::StatusOr<PortAddress> port =
      QueryPortAddress(**context, 1, device().gid_index);
  ASSERT_TRUE(port.ok()) << port.status();
  std::vector<uint8_t> memory(4096, 0);
  absl::StatusOr<std::unique_ptr<Mr>> mr =
      Mr::Register(*pd, memory.data(), memory.size(), IBV_ACCESS_LOCAL_WRITE);
  ASSERT_TRUE(mr.ok()) << mr.status();
  absl::StatusOr<std::unique_ptr<Qp>> sender =
      Qp::Create(*pd, *send_cq, *send_cq, IBV_QPT_UD);
  absl::StatusOr<std::unique_ptr<Qp>> receiver =
      Qp::Create(*pd, *recv_cq, *recv_cq, IBV_QPT_UD);
  ASSERT_TRUE(sender.ok() && receiver.ok());
  for (Qp* qp : {sender->get(), receiver->get()}) {
    ASSERT_TRUE(ModifyUdToInit(*qp, port->port_num, kQkey).ok());
    ASSERT_TRUE(ModifyUdToRtr(*qp).ok());
    ASSERT_TRUE(ModifyUdToRts(*qp, 0).ok());
  }
  absl::StatusOr<std::unique_ptr<AddressHandle>> ah = AddressHandle::Create(
      *pd, MakeAhAttr(*port, MakeEndpoint(*port, (*receiver)->qpn(), 0)));
  ASSERT_TRUE(ah.ok()) << ah.status();
  ASSERT_TRUE((*receiver)->PostRecv((*mr)->Sge(1024, 1024), 1).ok());
  ASSERT_TRUE((*sender)
                  ->PostUdSend((*mr)->Sge(0, 64), **ah, (*receiver)->qpn(),
                               kQkey + 1, 2)
                  .ok());
  // The send itself completes (UD is unreliable: the sender never learns).
  ASSERT_TRUE(WaitForSuccess(**send_cq, 2).ok());
  absl::StatusOr<ibv_wc> nothing =
      (*recv_cq)->WaitForCompletion(absl::Milliseconds(200));
  EXPECT_EQ(nothing.status().code(), absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace swift::verbs
