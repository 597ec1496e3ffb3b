// CqWaiter::Create: checks the CQ and options once and builds the waiter
// of the chosen mode; see swift/wait.h.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/wait/cq_claims.h"
#include "client/wait/dispatched_waiter.h"
#include "client/wait/polling_waiters.h"
#include "swift/wait.h"

namespace swift {

absl::StatusOr<std::unique_ptr<CqWaiter>> CqWaiter::Create(
    ibv_cq* cq, const WaitOptions& options) {
  if (cq == nullptr) {
    return absl::InvalidArgumentError("CqWaiter::Create: null CQ");
  }
  if (options.ack_batch < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CqWaiter::Create: ack_batch ", options.ack_batch, " < 1"));
  }
  if (options.max_spin < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CqWaiter::Create: max_spin is negative");
  }
  if (options.mode != WaitMode::kBusyPoll && cq->channel == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "wait mode ", WaitModeName(options.mode),
        " needs a CQ created with a completion channel; this one has none "
        "(create it with one, or use busy_poll)"));
  }
  absl::StatusOr<std::unique_ptr<wait_internal::CqClaim>> claim =
      wait_internal::CqClaim::Take(cq);
  if (!claim.ok()) {
    return claim.status();
  }
  switch (options.mode) {
    case WaitMode::kBusyPoll:
      return wait_internal::MakeBusyPollWaiter(cq, *std::move(claim));
    case WaitMode::kEvent:
    case WaitMode::kHybrid:
      return wait_internal::MakeEventWaiter(cq, options, *std::move(claim));
    case WaitMode::kDispatcher:
      return wait_internal::MakeDispatchedWaiter(cq, options,
                                                 *std::move(claim));
  }
  return absl::InvalidArgumentError("CqWaiter::Create: unknown wait mode");
}

}  // namespace swift
