// One signaled request and its completion; see post_and_wait.h.
#include "common/verbs/post_and_wait.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/verbs/cq.h"

namespace swift::verbs {

ibv_send_wr SignaledRdmaRequest(ibv_wr_opcode opcode, ibv_sge* sge,
                                uint64_t remote_addr, uint32_t rkey,
                                uint64_t wr_id) {
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

absl::Status WaitForCompletion(ibv_cq* cq, uint64_t wr_id,
                               absl::Duration timeout) {
  absl::StatusOr<ibv_wc> wc = WaitForOneCompletion(cq, timeout);
  if (!wc.ok()) {
    return absl::Status(
        wc.status().code(),
        absl::StrCat("waiting for wr_id ", wr_id, ": ", wc.status().message()));
  }
  if (absl::Status status = CompletionToStatus(*wc); !status.ok()) {
    return status;
  }
  if (wc->wr_id != wr_id) {
    return absl::InternalError(absl::StrCat("a completion of wr_id ", wc->wr_id,
                                            " while waiting for ", wr_id));
  }
  return absl::OkStatus();
}

absl::Status PostAndWait(ibv_qp* qp, ibv_cq* cq, ibv_send_wr& wr,
                         absl::Duration timeout) {
  ibv_send_wr* bad = nullptr;
  // ibv_post_send(3) returns the errno value itself.
  if (const int rc = ibv_post_send(qp, &wr, &bad); rc != 0) {
    return ErrnoStatus(rc, "ibv_post_send");
  }
  return WaitForCompletion(cq, wr.wr_id, timeout);
}

}  // namespace swift::verbs
