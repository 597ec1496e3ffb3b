// What every wait mode shares: its verbs calls, with their failures as
// statuses, and its deadline.
#ifndef SWIFT_CLIENT_WAIT_POLL_CQ_H_
#define SWIFT_CLIENT_WAIT_POLL_CQ_H_

#include <infiniband/verbs.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace swift::wait_internal {

// Up to `max_entries` completions of `cq` into `wcs`; how many (0: none).
// kInternal naming the CQ when the provider fails.
absl::StatusOr<int> PollCq(ibv_cq* cq, ibv_wc* wcs, int max_entries);

// Arms `cq` for its next completion (ibv_req_notify_cq, all completions).
absl::Status ArmCq(ibv_cq* cq);

// The deadline of a wait of `timeout` begun at `start`; InfiniteFuture()
// for an InfiniteDuration() timeout.
absl::Time DeadlineAfter(absl::Time start, absl::Duration timeout);

// Makes `channel`'s fd non-blocking: waiters sleep in ppoll/epoll with a
// deadline and then read events until EAGAIN, never blocking in a read.
absl::Status MakeChannelNonBlocking(ibv_comp_channel* channel);

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_POLL_CQ_H_
