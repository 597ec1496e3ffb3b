// One signaled RDMA request and its completion, on raw verbs handles.
//
// Tests, benchmarks and example functions post one WRITE or READ on a
// connection libswift gave them (ibv_qp*, ibv_cq*, a registered buffer and
// the remote's address and rkey) and wait for it. These are the one
// spelling of that sequence. Busy-polls (see WaitForOneCompletion() in
// cq.h): for callers whose completing side is the NIC or another process,
// not a thread sharing their core. Thread-compatible: one thread polls a CQ
// at a time.
#ifndef SWIFT_COMMON_VERBS_POST_AND_WAIT_H_
#define SWIFT_COMMON_VERBS_POST_AND_WAIT_H_

#include <infiniband/verbs.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace swift::verbs {

// SignaledRdmaRequest()
//
// A single-SGE, signaled RDMA `opcode` (IBV_WR_RDMA_WRITE or
// IBV_WR_RDMA_READ) of `*sge` to or from `remote_addr`/`rkey`. The request
// points at `sge`, which must outlive the post.
ibv_send_wr SignaledRdmaRequest(ibv_wr_opcode opcode, ibv_sge* sge,
                                uint64_t remote_addr, uint32_t rkey,
                                uint64_t wr_id);

// WaitForCompletion()
//
// Polls `cq` until one completion arrives or `timeout` passes. OK when it
// succeeded and carries `wr_id`. A failed completion is
// CompletionToStatus()'s error (cq.h); one of another request is
// kInternal; none in time is kDeadlineExceeded.
absl::Status WaitForCompletion(ibv_cq* cq, uint64_t wr_id,
                               absl::Duration timeout);

// PostAndWait()
//
// ibv_post_send of `wr` (one request, signaled) on `qp`, then
// WaitForCompletion() on `cq`, the QP's send CQ. A refused post is the
// verb's errno status (the request was not queued); otherwise as
// WaitForCompletion().
absl::Status PostAndWait(ibv_qp* qp, ibv_cq* cq, ibv_send_wr& wr,
                         absl::Duration timeout);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_POST_AND_WAIT_H_
