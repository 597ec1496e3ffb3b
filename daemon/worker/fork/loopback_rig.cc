// LoopbackRig implementation; see loopback_rig.h.
#include "daemon/worker/fork/loopback_rig.h"

#include <utility>

#include "common/status_macros.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/qp_transitions.h"

namespace swift {

absl::StatusOr<std::unique_ptr<LoopbackRig>> MakeLoopbackRig(
    std::shared_ptr<verbs::Context> context, size_t bytes,
    std::optional<uint32_t> gid_index, uint32_t max_send_wr) {
  auto rig = std::make_unique<LoopbackRig>();
  rig->context = std::move(context);
  SWIFT_ASSIGN_OR_RETURN(rig->pd, verbs::Pd::Allocate(rig->context));
  SWIFT_ASSIGN_OR_RETURN(verbs::SharedRegion region,
                         verbs::SharedRegion::Create("swift-fork", bytes));
  rig->region = std::move(region);
  SWIFT_ASSIGN_OR_RETURN(
      rig->mr,
      verbs::Mr::Register(rig->pd, rig->region->data(), rig->region->size(),
                          verbs::Mr::kRemoteReadWrite));
  SWIFT_ASSIGN_OR_RETURN(rig->cq_a, verbs::Cq::Create(rig->context, 64));
  SWIFT_ASSIGN_OR_RETURN(rig->cq_b, verbs::Cq::Create(rig->context, 64));
  verbs::QpCapacity capacity;
  capacity.max_send_wr = max_send_wr;
  capacity.max_recv_wr = max_send_wr;
  SWIFT_ASSIGN_OR_RETURN(
      rig->qp_a,
      verbs::Qp::Create(rig->pd, rig->cq_a, rig->cq_a, IBV_QPT_RC, capacity));
  SWIFT_ASSIGN_OR_RETURN(
      rig->qp_b,
      verbs::Qp::Create(rig->pd, rig->cq_b, rig->cq_b, IBV_QPT_RC, capacity));
  SWIFT_ASSIGN_OR_RETURN(rig->port,
                         verbs::QueryPortAddress(*rig->context, 1, gid_index));
  const uint32_t psn_a = verbs::RandomPsn();
  const uint32_t psn_b = verbs::RandomPsn();
  const verbs::QpEndpoint a =
      verbs::MakeEndpoint(rig->port, rig->qp_a->qpn(), psn_a);
  const verbs::QpEndpoint b =
      verbs::MakeEndpoint(rig->port, rig->qp_b->qpn(), psn_b);
  SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToInit(*rig->qp_a, rig->port.port_num));
  SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToInit(*rig->qp_b, rig->port.port_num));
  SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToRtr(*rig->qp_a, rig->port, b));
  SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToRtr(*rig->qp_b, rig->port, a));
  SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToRts(*rig->qp_a, psn_a));
  SWIFT_RETURN_IF_ERROR(verbs::ModifyRcToRts(*rig->qp_b, psn_b));
  return rig;
}

}  // namespace swift
