// What every wait mode shares; see poll_cq.h.
#include "client/wait/poll_cq.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/nonblocking.h"

namespace swift::wait_internal {

absl::StatusOr<int> PollCq(ibv_cq* cq, ibv_wc* wcs, int max_entries) {
  const int count = ibv_poll_cq(cq, max_entries, wcs);
  if (count < 0) {
    return absl::InternalError(
        absl::StrFormat("ibv_poll_cq(cq %p on %s) failed: %d", cq,
                        ibv_get_device_name(cq->context->device), count));
  }
  return count;
}

absl::Status ArmCq(ibv_cq* cq) {
  if (int rc = ibv_req_notify_cq(cq, 0); rc != 0) {
    return ErrnoStatus(
        rc, absl::StrFormat("ibv_req_notify_cq(cq %p on %s)", cq,
                            ibv_get_device_name(cq->context->device)));
  }
  return absl::OkStatus();
}

absl::Time DeadlineAfter(absl::Time start, absl::Duration timeout) {
  return timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                             : start + timeout;
}

absl::Status MakeChannelNonBlocking(ibv_comp_channel* channel) {
  return SetNonBlocking(
      channel->fd, absl::StrFormat("completion channel fd %d", channel->fd));
}

}  // namespace swift::wait_internal
