// The dispatcher mode's waiter: registers its CQ with the dispatcher of
// the owner's core, and waits on a futex for the completions the
// dispatcher moves into its ring.
#ifndef SWIFT_CLIENT_WAIT_DISPATCHED_WAITER_H_
#define SWIFT_CLIENT_WAIT_DISPATCHED_WAITER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "client/wait/cq_claims.h"
#include "swift/wait.h"

namespace swift::wait_internal {

absl::StatusOr<std::unique_ptr<CqWaiter>> MakeDispatchedWaiter(
    ibv_cq* cq, const WaitOptions& options, std::unique_ptr<CqClaim> claim);

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_DISPATCHED_WAITER_H_
