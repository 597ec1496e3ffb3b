// QP state transitions; see qp_transitions.h.
#include "common/verbs/qp_transitions.h"

#include <random>

#include "absl/strings/str_cat.h"

namespace swift::verbs {
namespace {

absl::Status RequireType(const Qp& qp, ibv_qp_type type,
                         absl::string_view transition) {
  if (qp.type() != type) {
    return absl::InvalidArgumentError(
        absl::StrCat("ibv_modify_qp(", transition, ") ", qp.Describe(),
                     ": not a", type == IBV_QPT_RC ? "n RC" : " UD", " QP"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ModifyRcToInit(Qp& qp, uint8_t port_num,
                            const RcOptions& options) {
  constexpr absl::string_view kTransition = "RESET->INIT";
  if (absl::Status status = RequireType(qp, IBV_QPT_RC, kTransition);
      !status.ok()) {
    return status;
  }
  ibv_qp_attr attr = {};
  attr.qp_state = IBV_QPS_INIT;
  attr.pkey_index = 0;
  attr.port_num = port_num;
  attr.qp_access_flags = options.access_flags;
  // One attribute flag per line, as the verbs spec lists them.
  // clang-format off
  const int mask = IBV_QP_STATE |
                   IBV_QP_PKEY_INDEX |
                   IBV_QP_PORT |
                   IBV_QP_ACCESS_FLAGS;
  // clang-format on
  return qp.Modify(attr, mask, kTransition);
}

absl::Status ModifyRcToRtr(Qp& qp, const PortAddress& local,
                           const QpEndpoint& remote, const RcOptions& options) {
  constexpr absl::string_view kTransition = "INIT->RTR";
  if (absl::Status status = RequireType(qp, IBV_QPT_RC, kTransition);
      !status.ok()) {
    return status;
  }
  ibv_qp_attr attr = {};
  attr.qp_state = IBV_QPS_RTR;
  attr.path_mtu = MinMtu(local.active_mtu, remote.mtu);
  attr.dest_qp_num = remote.qpn;
  attr.rq_psn = remote.psn;
  attr.max_dest_rd_atomic = options.max_dest_rd_atomic;
  attr.min_rnr_timer = options.min_rnr_timer;
  attr.ah_attr =
      MakeAhAttr(local, remote, options.hop_limit, options.traffic_class);
  // One attribute flag per line, as the verbs spec lists them.
  // clang-format off
  const int mask = IBV_QP_STATE |
                   IBV_QP_AV |
                   IBV_QP_PATH_MTU |
                   IBV_QP_DEST_QPN |
                   IBV_QP_RQ_PSN |
                   IBV_QP_MAX_DEST_RD_ATOMIC |
                   IBV_QP_MIN_RNR_TIMER;
  // clang-format on
  return qp.Modify(attr, mask, kTransition);
}

absl::Status ModifyRcToRts(Qp& qp, uint32_t local_psn,
                           const RcOptions& options) {
  constexpr absl::string_view kTransition = "RTR->RTS";
  if (absl::Status status = RequireType(qp, IBV_QPT_RC, kTransition);
      !status.ok()) {
    return status;
  }
  ibv_qp_attr attr = {};
  attr.qp_state = IBV_QPS_RTS;
  attr.sq_psn = local_psn;
  attr.timeout = options.timeout;
  attr.retry_cnt = options.retry_cnt;
  attr.rnr_retry = options.rnr_retry;
  attr.max_rd_atomic = options.max_rd_atomic;
  // One attribute flag per line, as the verbs spec lists them.
  // clang-format off
  const int mask = IBV_QP_STATE |
                   IBV_QP_SQ_PSN |
                   IBV_QP_TIMEOUT |
                   IBV_QP_RETRY_CNT |
                   IBV_QP_RNR_RETRY |
                   IBV_QP_MAX_QP_RD_ATOMIC;
  // clang-format on
  return qp.Modify(attr, mask, kTransition);
}

absl::Status ModifyUdToInit(Qp& qp, uint8_t port_num, uint32_t qkey) {
  constexpr absl::string_view kTransition = "RESET->INIT";
  if (absl::Status status = RequireType(qp, IBV_QPT_UD, kTransition);
      !status.ok()) {
    return status;
  }
  ibv_qp_attr attr = {};
  attr.qp_state = IBV_QPS_INIT;
  attr.pkey_index = 0;
  attr.port_num = port_num;
  attr.qkey = qkey;
  // One attribute flag per line, as the verbs spec lists them.
  // clang-format off
  const int mask = IBV_QP_STATE |
                   IBV_QP_PKEY_INDEX |
                   IBV_QP_PORT |
                   IBV_QP_QKEY;
  // clang-format on
  return qp.Modify(attr, mask, kTransition);
}

absl::Status ModifyUdToRtr(Qp& qp) {
  constexpr absl::string_view kTransition = "INIT->RTR";
  if (absl::Status status = RequireType(qp, IBV_QPT_UD, kTransition);
      !status.ok()) {
    return status;
  }
  ibv_qp_attr attr = {};
  attr.qp_state = IBV_QPS_RTR;
  return qp.Modify(attr, IBV_QP_STATE, kTransition);
}

absl::Status ModifyUdToRts(Qp& qp, uint32_t psn) {
  constexpr absl::string_view kTransition = "RTR->RTS";
  if (absl::Status status = RequireType(qp, IBV_QPT_UD, kTransition);
      !status.ok()) {
    return status;
  }
  ibv_qp_attr attr = {};
  attr.qp_state = IBV_QPS_RTS;
  attr.sq_psn = psn;
  // One attribute flag per line, as the verbs spec lists them.
  // clang-format off
  const int mask = IBV_QP_STATE |
                   IBV_QP_SQ_PSN;
  // clang-format on
  return qp.Modify(attr, mask, kTransition);
}

absl::Status ModifyToReset(Qp& qp) {
  ibv_qp_attr attr = {};
  attr.qp_state = IBV_QPS_RESET;
  return qp.Modify(attr, IBV_QP_STATE, "->RESET");
}

absl::Status ModifyToError(Qp& qp) {
  ibv_qp_attr attr = {};
  attr.qp_state = IBV_QPS_ERR;
  return qp.Modify(attr, IBV_QP_STATE, "->ERR");
}

uint32_t RandomPsn() {
  // One generator per thread: seeding from random_device per call would cost
  // a syscall each time.
  thread_local std::mt19937 generator{std::random_device{}()};
  return std::uniform_int_distribution<uint32_t>(0, kMax24Bit)(generator);
}

}  // namespace swift::verbs
