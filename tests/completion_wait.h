// Posting one signaled RDMA request and waiting for its completion, as the
// tests (and the test function that runs in swiftd's workers) do it.
//
// Busy-polls: meant for tests, whose completing side is another process or
// the NIC, never for a thread that shares its core with the completing
// side. Thread-compatible: one thread polls a CQ at a time.
#ifndef SWIFT_TESTS_COMPLETION_WAIT_H_
#define SWIFT_TESTS_COMPLETION_WAIT_H_

#include <infiniband/verbs.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace swift::testing {

// WaitForCompletion()
//
// Polls `cq` until one completion arrives or `timeout` passes. OK when it
// succeeded and carries `wr_id`. kInternal when ibv_poll_cq fails, when the
// completion failed (its ibv_wc_status_str named) or belongs to another
// request; kDeadlineExceeded when none arrived in time.
absl::Status WaitForCompletion(ibv_cq* cq, uint64_t wr_id,
                               absl::Duration timeout);

// PostAndWait()
//
// ibv_post_send of `wr` (one request, IBV_SEND_SIGNALED) on `qp`, then
// WaitForCompletion() on `cq`, the QP's send CQ. A post failure is
// kInternal naming the errno; otherwise as WaitForCompletion().
absl::Status PostAndWait(ibv_qp* qp, ibv_cq* cq, ibv_send_wr& wr,
                         absl::Duration timeout = absl::Seconds(10));

}  // namespace swift::testing

#endif  // SWIFT_TESTS_COMPLETION_WAIT_H_
