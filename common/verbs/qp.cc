// Qp implementation; see qp.h.
#include "common/verbs/qp.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/verbs/address_handle.h"
#include "common/verbs/post_and_wait.h"

namespace swift::verbs {
namespace {

std::string SendOpcodeName(ibv_wr_opcode opcode) {
  switch (opcode) {
    case IBV_WR_SEND:
      return "SEND";
    case IBV_WR_SEND_WITH_IMM:
      return "SEND_WITH_IMM";
    case IBV_WR_RDMA_WRITE:
      return "RDMA_WRITE";
    case IBV_WR_RDMA_WRITE_WITH_IMM:
      return "RDMA_WRITE_WITH_IMM";
    case IBV_WR_RDMA_READ:
      return "RDMA_READ";
    default:
      return absl::StrCat("opcode ", static_cast<int>(opcode));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Qp>> Qp::Create(std::shared_ptr<Pd> pd,
                                               std::shared_ptr<Cq> send_cq,
                                               std::shared_ptr<Cq> recv_cq,
                                               ibv_qp_type type,
                                               const QpCapacity& capacity) {
  if (pd == nullptr || pd->get() == nullptr || send_cq == nullptr ||
      send_cq->get() == nullptr || recv_cq == nullptr ||
      recv_cq->get() == nullptr) {
    return absl::InvalidArgumentError("Qp::Create: missing PD or CQ");
  }
  if (type != IBV_QPT_RC && type != IBV_QPT_UD) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Qp::Create: QP type ", static_cast<int>(type), " not supported"));
  }
  if (send_cq->context() != pd->context() ||
      recv_cq->context() != pd->context()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Qp::Create: CQs and ", pd->Describe(),
                     " belong to different device contexts"));
  }
  ibv_qp_init_attr init = {};
  init.send_cq = send_cq->get();
  init.recv_cq = recv_cq->get();
  init.qp_type = type;
  init.sq_sig_all = 0;
  init.cap.max_send_wr = capacity.max_send_wr;
  init.cap.max_recv_wr = capacity.max_recv_wr;
  init.cap.max_send_sge = capacity.max_send_sge;
  init.cap.max_recv_sge = capacity.max_recv_sge;
  init.cap.max_inline_data = capacity.max_inline_data;
  errno = 0;
  ibv_qp* qp = ibv_create_qp(pd->get(), &init);
  if (qp == nullptr) {
    return ErrnoStatus(
        errno, absl::StrCat("ibv_create_qp(", type == IBV_QPT_RC ? "RC" : "UD",
                            ", ", pd->Describe(), ")"));
  }
  // ibv_create_qp wrote back what the provider actually allocated.
  QpCapacity actual;
  actual.max_send_wr = init.cap.max_send_wr;
  actual.max_recv_wr = init.cap.max_recv_wr;
  actual.max_send_sge = init.cap.max_send_sge;
  actual.max_recv_sge = init.cap.max_recv_sge;
  actual.max_inline_data = init.cap.max_inline_data;
  return std::make_unique<Qp>(PrivateKey(), std::move(pd), std::move(send_cq),
                              std::move(recv_cq), qp, actual);
}

Qp::~Qp() {
  if (absl::Status status = Destroy(); !status.ok()) {
    SWIFT_LOG(Error, "leaking QP: ", status.ToString());
  }
}

absl::Status Qp::Destroy() {
  if (qp_ == nullptr) {
    return absl::OkStatus();
  }
  if (int rc = ibv_destroy_qp(qp_); rc != 0) {
    return ErrnoStatus(rc, absl::StrCat("ibv_destroy_qp(", Describe(), ")"));
  }
  qp_ = nullptr;
  return absl::OkStatus();
}

absl::Status Qp::Modify(ibv_qp_attr& attr, int mask,
                        absl::string_view transition) {
  if (qp_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ibv_modify_qp(", transition, ") ", Describe(), ": QP destroyed"));
  }
  if (int rc = ibv_modify_qp(qp_, &attr, mask); rc != 0) {
    return ErrnoStatus(
        rc, absl::StrCat("ibv_modify_qp(", transition, ") ", Describe()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ibv_qp_state> Qp::QueryState() const {
  ibv_qp_attr attr = {};
  ibv_qp_init_attr init = {};
  if (int rc = ibv_query_qp(qp_, &attr, IBV_QP_STATE, &init); rc != 0) {
    return ErrnoStatus(rc, absl::StrCat("ibv_query_qp(", Describe(), ")"));
  }
  return attr.qp_state;
}

absl::Status Qp::PostSendChain(ibv_send_wr& wr) {
  ibv_send_wr* bad = nullptr;
  if (int rc = ibv_post_send(qp_, &wr, &bad); rc != 0) {
    const ibv_send_wr& failed = bad != nullptr ? *bad : wr;
    return ErrnoStatus(rc, absl::StrFormat("ibv_post_send(%s wr_id=%u) %s",
                                           SendOpcodeName(failed.opcode),
                                           failed.wr_id, Describe()));
  }
  return absl::OkStatus();
}

absl::Status Qp::PostRecvChain(ibv_recv_wr& wr) {
  ibv_recv_wr* bad = nullptr;
  if (int rc = ibv_post_recv(qp_, &wr, &bad); rc != 0) {
    const ibv_recv_wr& failed = bad != nullptr ? *bad : wr;
    return ErrnoStatus(rc, absl::StrFormat("ibv_post_recv(wr_id=%u) %s",
                                           failed.wr_id, Describe()));
  }
  return absl::OkStatus();
}

absl::Status Qp::PostRdma(ibv_wr_opcode opcode, const ibv_sge& local,
                          uint64_t remote_addr, uint32_t rkey, uint64_t wr_id) {
  ibv_sge sge = local;
  ibv_send_wr wr = SignaledRdmaRequest(opcode, &sge, remote_addr, rkey, wr_id);
  return PostSendChain(wr);
}

absl::Status Qp::PostWrite(const ibv_sge& local, uint64_t remote_addr,
                           uint32_t rkey, uint64_t wr_id) {
  return PostRdma(IBV_WR_RDMA_WRITE, local, remote_addr, rkey, wr_id);
}

absl::Status Qp::PostRead(const ibv_sge& local, uint64_t remote_addr,
                          uint32_t rkey, uint64_t wr_id) {
  return PostRdma(IBV_WR_RDMA_READ, local, remote_addr, rkey, wr_id);
}

absl::Status Qp::PostSend(const ibv_sge& local, uint64_t wr_id) {
  ibv_sge sge = local;
  ibv_send_wr wr = {};
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_SEND;
  wr.send_flags = IBV_SEND_SIGNALED;
  return PostSendChain(wr);
}

absl::Status Qp::PostUdSend(const ibv_sge& local, const AddressHandle& ah,
                            uint32_t remote_qpn, uint32_t remote_qkey,
                            uint64_t wr_id) {
  ibv_sge sge = local;
  ibv_send_wr wr = {};
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_SEND;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.wr.ud.ah = ah.get();
  wr.wr.ud.remote_qpn = remote_qpn;
  wr.wr.ud.remote_qkey = remote_qkey;
  return PostSendChain(wr);
}

absl::Status Qp::PostRecv(const ibv_sge& local, uint64_t wr_id) {
  ibv_sge sge = local;
  ibv_recv_wr wr = {};
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  return PostRecvChain(wr);
}

std::string Qp::Describe() const {
  return absl::StrFormat("qpn=0x%x on %s", qpn_, device_name());
}

std::string QpStateName(ibv_qp_state state) {
  switch (state) {
    case IBV_QPS_RESET:
      return "RESET";
    case IBV_QPS_INIT:
      return "INIT";
    case IBV_QPS_RTR:
      return "RTR";
    case IBV_QPS_RTS:
      return "RTS";
    case IBV_QPS_SQD:
      return "SQD";
    case IBV_QPS_SQE:
      return "SQE";
    case IBV_QPS_ERR:
      return "ERR";
    default:
      return absl::StrCat("state ", static_cast<int>(state));
  }
}

}  // namespace swift::verbs
