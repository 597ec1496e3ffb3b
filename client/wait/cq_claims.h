// CqClaims: which CQs and completion channels live waiters use, process
// wide, so that CqWaiter::Create() refuses a second waiter on one CQ and
// two waited CQs sharing a channel (a waiter would read the other CQ's
// events and the other would sleep through its completions).
#ifndef SWIFT_CLIENT_WAIT_CQ_CLAIMS_H_
#define SWIFT_CLIENT_WAIT_CQ_CLAIMS_H_

#include <infiniband/verbs.h>

#include <memory>

#include "absl/status/statusor.h"

namespace swift::wait_internal {

// An RAII claim on a CQ and, if it has one, its channel; released when
// destroyed.
class CqClaim {
 public:
  // Claims `cq` (and cq->channel). kFailedPrecondition when another live
  // claim holds either.
  static absl::StatusOr<std::unique_ptr<CqClaim>> Take(ibv_cq* cq);

  explicit CqClaim(ibv_cq* cq) : cq_(cq) {}
  CqClaim(const CqClaim&) = delete;
  CqClaim& operator=(const CqClaim&) = delete;
  ~CqClaim();

 private:
  ibv_cq* const cq_;
};

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_CQ_CLAIMS_H_
