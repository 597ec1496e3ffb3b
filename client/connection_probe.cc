// ProbeConnection implementation; see connection_probe.h.
#include "client/connection_probe.h"

#include <infiniband/verbs.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/verbs/cq.h"

namespace swift {

absl::Status PostProbe(const Connection& connection) {
  ibv_send_wr wr = {};
  wr.wr_id = kProbeWrId;
  wr.opcode = IBV_WR_RDMA_WRITE;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.num_sge = 0;  // Zero bytes: the peer's memory is not touched.
  const RemoteMemory remote = connection.remote();
  wr.wr.rdma.remote_addr = remote.addr;
  wr.wr.rdma.rkey = remote.rkey;
  ibv_send_wr* bad = nullptr;
  if (const int error = ibv_post_send(connection.qp(), &wr, &bad); error != 0) {
    return ErrnoStatus(error, "posting the pair's probe (ibv_post_send)");
  }
  return absl::OkStatus();
}

absl::Status AwaitProbe(const Connection& connection, absl::Duration timeout) {
  absl::StatusOr<ibv_wc> completion =
      verbs::WaitForOneCompletion(connection.cq(), timeout);
  if (!completion.ok()) {
    if (absl::IsDeadlineExceeded(completion.status())) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the peer's NIC did not answer a zero-length RDMA WRITE within ",
          absl::FormatDuration(timeout), " (its QP is gone)"));
    }
    return completion.status();
  }
  if (completion->wr_id != kProbeWrId) {
    return absl::InternalError(absl::StrCat(
        "a completion of another request (wr_id ", completion->wr_id,
        ") on a pair that was never handed out"));
  }
  return verbs::CompletionToStatus(*completion);
}

}  // namespace swift
