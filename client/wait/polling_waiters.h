// The waiters that run on the owner's thread alone: busy_poll, event and
// hybrid (the dispatcher mode is dispatched_waiter.h). CqWaiter::Create()
// picks one; each holds the CqClaim it was given.
#ifndef SWIFT_CLIENT_WAIT_POLLING_WAITERS_H_
#define SWIFT_CLIENT_WAIT_POLLING_WAITERS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "client/wait/cq_claims.h"
#include "swift/wait.h"

namespace swift::wait_internal {

std::unique_ptr<CqWaiter> MakeBusyPollWaiter(ibv_cq* cq,
                                             std::unique_ptr<CqClaim> claim);

// kEvent or kHybrid, per options.mode.
absl::StatusOr<std::unique_ptr<CqWaiter>> MakeEventWaiter(
    ibv_cq* cq, const WaitOptions& options, std::unique_ptr<CqClaim> claim);

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_POLLING_WAITERS_H_
