// CqClaim implementation; see cq_claims.h.
#include "client/wait/cq_claims.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace swift::wait_internal {
namespace {

struct Claims {
  absl::Mutex mu;
  // Claimed CQ -> its channel (nullptr when it has none), and channel ->
  // the CQ that claimed it.
  absl::flat_hash_map<ibv_cq*, ibv_comp_channel*> cqs ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<ibv_comp_channel*, ibv_cq*> channels ABSL_GUARDED_BY(mu);
};

Claims& AllClaims() {
  // Never destroyed: waiters may outlive static destruction at exit.
  static Claims* const claims = new Claims;
  return *claims;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CqClaim>> CqClaim::Take(ibv_cq* cq) {
  Claims& claims = AllClaims();
  absl::MutexLock lock(&claims.mu);
  if (claims.cqs.contains(cq)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("cq %p already has a waiter: one waiter per CQ", cq));
  }
  if (cq->channel != nullptr) {
    auto it = claims.channels.find(cq->channel);
    if (it != claims.channels.end()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "cq %p shares its completion channel (fd %d) with cq %p, which "
          "has a waiter: create each waited CQ with its own channel",
          cq, cq->channel->fd, it->second));
    }
    claims.channels[cq->channel] = cq;
  }
  claims.cqs[cq] = cq->channel;
  return std::make_unique<CqClaim>(cq);
}

CqClaim::~CqClaim() {
  Claims& claims = AllClaims();
  absl::MutexLock lock(&claims.mu);
  auto it = claims.cqs.find(cq_);
  if (it != claims.cqs.end()) {
    if (it->second != nullptr) {
      claims.channels.erase(it->second);
    }
    claims.cqs.erase(it);
  }
}

}  // namespace swift::wait_internal
