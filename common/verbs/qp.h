// Qp: a queue pair (ibv_qp), RC or UD, destroyed when its owner dies.
//
// A Qp holds its PD and both CQs (std::shared_ptr), so they outlive it.
// State changes go through Modify(), which names the transition and the QP
// number in any error; the named RC/UD transitions built on it are in
// qp_transitions.h. The Post* calls are thin: one work request, signaled,
// with errors naming the operation, wr_id and QP.
//
// Thread-compatible: a QP is driven by one thread (and one process) at a
// time (ARCHITECTURE.md). Move-only through std::unique_ptr. QueryState() and the
// Post* calls require that Destroy() has not succeeded.
#ifndef SWIFT_COMMON_VERBS_QP_H_
#define SWIFT_COMMON_VERBS_QP_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/verbs/cq.h"
#include "common/verbs/pd.h"

namespace swift::verbs {

class AddressHandle;

// Queue sizes requested at creation; the provider may round them up.
struct QpCapacity {
  uint32_t max_send_wr = 16;
  uint32_t max_recv_wr = 16;
  uint32_t max_send_sge = 1;
  uint32_t max_recv_sge = 1;
  uint32_t max_inline_data = 0;
};

class Qp final {
  struct PrivateKey {
    explicit PrivateKey() = default;
  };

 public:
  // Create()
  //
  // ibv_create_qp of `type` (IBV_QPT_RC or IBV_QPT_UD) in `pd`, completing
  // sends on `send_cq` and receives on `recv_cq` (may be the same CQ). The QP
  // starts in RESET; only explicitly signaled sends complete (the Post*
  // helpers signal every request). Errors: kInvalidArgument for a missing
  // object, another QP type, or objects of different devices; otherwise the
  // verb's errno naming the PD (kInvalidArgument when `capacity` exceeds the
  // device limits).
  static absl::StatusOr<std::unique_ptr<Qp>> Create(
      std::shared_ptr<Pd> pd, std::shared_ptr<Cq> send_cq,
      std::shared_ptr<Cq> recv_cq, ibv_qp_type type,
      const QpCapacity& capacity = QpCapacity());

  // Use Create(); takes ownership of `qp`.
  Qp(PrivateKey, std::shared_ptr<Pd> pd, std::shared_ptr<Cq> send_cq,
     std::shared_ptr<Cq> recv_cq, ibv_qp* qp, const QpCapacity& capacity)
      : pd_(std::move(pd)),
        send_cq_(std::move(send_cq)),
        recv_cq_(std::move(recv_cq)),
        qp_(qp),
        qpn_(qp->qp_num),
        type_(qp->qp_type),
        capacity_(capacity) {}

  Qp(const Qp&) = delete;
  Qp& operator=(const Qp&) = delete;

  // Destroys the QP unless Destroy() already did; a failure is logged,
  // naming the QP.
  ~Qp();

  // Destroy()
  //
  // ibv_destroy_qp now. OK on success or when already destroyed; on failure
  // (the verb's errno status) the QP stays owned. Outstanding work requests
  // are discarded without completions.
  absl::Status Destroy();

  // Modify()
  //
  // ibv_modify_qp(`attr`, `mask`). On failure the status reads
  // "ibv_modify_qp(<transition>) qpn=0x.. on <dev>: <errno text>", with the
  // code of the verb's errno (usually kInvalidArgument for an attribute the
  // state does not accept). The QP's state is unchanged on failure.
  absl::Status Modify(ibv_qp_attr& attr, int mask,
                      absl::string_view transition);

  // QueryState()
  //
  // The QP's current state as the provider reports it (ibv_query_qp).
  absl::StatusOr<ibv_qp_state> QueryState() const;

  // PostSendChain() / PostRecvChain()
  //
  // ibv_post_send / ibv_post_recv of `wr` and any requests chained to it.
  // On failure the status names the first rejected wr_id; requests before it
  // were posted. Never blocks.
  absl::Status PostSendChain(ibv_send_wr& wr);
  absl::Status PostRecvChain(ibv_recv_wr& wr);

  // PostWrite() / PostRead()
  //
  // One signaled RDMA WRITE of `local` to `remote_addr`, or READ from it into
  // `local`, with `rkey` (RC only). The peer's buffer must cover
  // `remote_addr` + local.length.
  absl::Status PostWrite(const ibv_sge& local, uint64_t remote_addr,
                         uint32_t rkey, uint64_t wr_id);
  absl::Status PostRead(const ibv_sge& local, uint64_t remote_addr,
                        uint32_t rkey, uint64_t wr_id);

  // PostSend()
  //
  // One signaled SEND of `local` on a connected (RC) QP; the peer must have
  // a receive posted.
  absl::Status PostSend(const ibv_sge& local, uint64_t wr_id);

  // PostUdSend()
  //
  // One signaled UD SEND of `local` to QP `remote_qpn` behind `ah` with
  // `remote_qkey`. `ah` must stay alive until the send completes.
  absl::Status PostUdSend(const ibv_sge& local, const AddressHandle& ah,
                          uint32_t remote_qpn, uint32_t remote_qkey,
                          uint64_t wr_id);

  // PostRecv()
  //
  // One receive into `local`. On a UD QP the first 40 bytes receive the GRH,
  // so `local` must be 40 bytes longer than the largest message.
  absl::Status PostRecv(const ibv_sge& local, uint64_t wr_id);

  // The QP, or nullptr after a successful Destroy().
  ibv_qp* get() const { return qp_; }
  uint32_t qpn() const { return qpn_; }
  ibv_qp_type type() const { return type_; }
  const QpCapacity& capacity() const { return capacity_; }
  const std::shared_ptr<Pd>& pd() const { return pd_; }
  const std::shared_ptr<Cq>& send_cq() const { return send_cq_; }
  const std::shared_ptr<Cq>& recv_cq() const { return recv_cq_; }
  const std::string& device_name() const { return pd_->context()->name(); }

  // "qpn=0x11 on rxe0", for messages.
  std::string Describe() const;

 private:
  // One signaled RDMA `opcode` (WRITE or READ) between `local` and the
  // peer's `remote_addr`/`rkey`.
  absl::Status PostRdma(ibv_wr_opcode opcode, const ibv_sge& local,
                        uint64_t remote_addr, uint32_t rkey, uint64_t wr_id);

  // Declared first: released after the QP is destroyed.
  const std::shared_ptr<Pd> pd_;
  const std::shared_ptr<Cq> send_cq_;
  const std::shared_ptr<Cq> recv_cq_;
  ibv_qp* qp_;
  const uint32_t qpn_;
  const ibv_qp_type type_;
  const QpCapacity capacity_;
};

// QpStateName()
//
// "RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR" for a QP state.
std::string QpStateName(ibv_qp_state state);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_QP_H_
