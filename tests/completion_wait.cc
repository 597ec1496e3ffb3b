// Post-and-wait helpers of the tests; see completion_wait.h.
#include "tests/completion_wait.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace swift::testing {

absl::Status WaitForCompletion(ibv_cq* cq, uint64_t wr_id,
                               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    ibv_wc wc = {};
    const int polled = ibv_poll_cq(cq, 1, &wc);
    if (polled < 0) {
      // ibv_poll_cq(3): a negative value is an error, with no errno contract.
      return absl::InternalError(absl::StrCat("ibv_poll_cq returned ", polled));
    }
    if (polled == 0) {
      continue;
    }
    if (wc.status != IBV_WC_SUCCESS) {
      return absl::InternalError(
          absl::StrCat("wr_id ", wc.wr_id, ": ", ibv_wc_status_str(wc.status)));
    }
    if (wc.wr_id != wr_id) {
      return absl::InternalError(absl::StrCat(
          "a completion of wr_id ", wc.wr_id, " while waiting for ", wr_id));
    }
    return absl::OkStatus();
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "no completion of wr_id ", wr_id, " in ", absl::FormatDuration(timeout)));
}

absl::Status PostAndWait(ibv_qp* qp, ibv_cq* cq, ibv_send_wr& wr,
                         absl::Duration timeout) {
  ibv_send_wr* bad = nullptr;
  // ibv_post_send(3) returns the errno value itself.
  if (const int rc = ibv_post_send(qp, &wr, &bad); rc != 0) {
    return absl::InternalError(
        absl::StrCat("ibv_post_send: ", std::strerror(rc)));
  }
  return WaitForCompletion(cq, wr.wr_id, timeout);
}

}  // namespace swift::testing
