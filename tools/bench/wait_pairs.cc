// WaitPairs: connected RC pairs for the wait-mode benchmark; see
// wait_pairs.h.
#include "tools/bench/wait_pairs.h"

#include <utility>

#include "common/status_macros.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/qp_transitions.h"

namespace swift::bench {

absl::StatusOr<WaitDevice> OpenWaitDevice(const std::string& name,
                                          std::optional<uint32_t> gid_index) {
  WaitDevice device;
  SWIFT_ASSIGN_OR_RETURN(device.context, verbs::Context::OpenByName(name));
  SWIFT_ASSIGN_OR_RETURN(
      device.port, verbs::QueryPortAddress(*device.context, 1, gid_index));
  return device;
}

absl::Status WaitSide::PostRecv(int slot) {
  ibv_sge sge = {};
  sge.addr = reinterpret_cast<uintptr_t>(slots + slot * kSlotBytes);
  sge.length = kSlotBytes;
  sge.lkey = lkey;
  return qp->PostRecv(sge, static_cast<uint64_t>(slot));
}

absl::StatusOr<std::unique_ptr<WaitSide>> WaitPairs::MakeSide(
    const WaitDevice& device, Memory& memory, int index) {
  auto side = std::make_unique<WaitSide>();
  SWIFT_ASSIGN_OR_RETURN(side->channel,
                         verbs::CompletionChannel::Create(device.context));
  SWIFT_ASSIGN_OR_RETURN(
      side->cq, verbs::Cq::Create(device.context, kCqEntries, side->channel));
  verbs::QpCapacity capacity;
  capacity.max_send_wr = kSendDepth;
  capacity.max_recv_wr = kRecvDepth;
  capacity.max_inline_data = kMaxInline;
  SWIFT_ASSIGN_OR_RETURN(
      side->qp,
      verbs::Qp::Create(memory.pd, side->cq, side->cq, IBV_QPT_RC, capacity));
  side->psn = verbs::RandomPsn();
  side->slots =
      memory.mr->addr() + static_cast<size_t>(index) * kRecvDepth * kSlotBytes;
  side->lkey = memory.mr->lkey();
  SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToInit(*side->qp, device.port.port_num));
  return side;
}

absl::StatusOr<std::unique_ptr<WaitPairs>> WaitPairs::Create(
    const WaitDevice& a, const WaitDevice& b, int pairs) {
  if (pairs < 1) {
    return absl::InvalidArgumentError("WaitPairs needs at least one pair");
  }
  std::unique_ptr<WaitPairs> set(new WaitPairs());
  const size_t bytes = static_cast<size_t>(pairs) * kRecvDepth * kSlotBytes;
  for (auto [device, memory] :
       {std::pair{&a, &set->a_memory_}, std::pair{&b, &set->b_memory_}}) {
    SWIFT_ASSIGN_OR_RETURN(memory->pd, verbs::Pd::Allocate(device->context));
    memory->bytes.assign(bytes, 0);
    SWIFT_ASSIGN_OR_RETURN(
        memory->mr, verbs::Mr::Register(memory->pd, memory->bytes.data(), bytes,
                                        IBV_ACCESS_LOCAL_WRITE));
  }
  for (int i = 0; i < pairs; ++i) {
    SWIFT_ASSIGN_OR_RETURN(std::unique_ptr<WaitSide> side_a,
                           MakeSide(a, set->a_memory_, i));
    SWIFT_ASSIGN_OR_RETURN(std::unique_ptr<WaitSide> side_b,
                           MakeSide(b, set->b_memory_, i));
    // Both sides are in this process; the endpoints still go through
    // their wire form, as between two hosts.
    SWIFT_ASSIGN_OR_RETURN(
        verbs::QpEndpoint a_seen_by_b,
        verbs::DecodeEndpoint(verbs::EncodeEndpoint(
            verbs::MakeEndpoint(a.port, side_a->qp->qpn(), side_a->psn))));
    SWIFT_ASSIGN_OR_RETURN(
        verbs::QpEndpoint b_seen_by_a,
        verbs::DecodeEndpoint(verbs::EncodeEndpoint(
            verbs::MakeEndpoint(b.port, side_b->qp->qpn(), side_b->psn))));
    // Receives first: once both QPs are up, either may send.
    for (int slot = 0; slot < kRecvDepth; ++slot) {
      SWIFT_RETURN_IF_ERROR(side_a->PostRecv(slot));
      SWIFT_RETURN_IF_ERROR(side_b->PostRecv(slot));
    }
    SWIFT_RETURN_IF_ERROR(
        verbs::ModifyRcToRtr(*side_a->qp, a.port, b_seen_by_a));
    SWIFT_RETURN_IF_ERROR(
        verbs::ModifyRcToRtr(*side_b->qp, b.port, a_seen_by_b));
    SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToRts(*side_a->qp, side_a->psn));
    SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToRts(*side_b->qp, side_b->psn));
    set->a_sides_.push_back(std::move(side_a));
    set->b_sides_.push_back(std::move(side_b));
  }
  return set;
}

}  // namespace swift::bench
