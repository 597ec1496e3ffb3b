// PooledQp and QpFactory: what a QpPool (qp_pool.h) holds, and where it
// gets them. Internal to libswift.
//
// The pool's bookkeeping only moves PooledQps around; everything that
// touches the device goes through a QpFactory, so the pool is tested on a
// host without one (qp_pool_test.cc) and runs on RcQpFactory
// (rc_qp_factory.h) in a Session.
#ifndef SWIFT_CLIENT_QP_FACTORY_H_
#define SWIFT_CLIENT_QP_FACTORY_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/verbs/cq.h"
#include "common/verbs/qp.h"

namespace swift {

// One pooled QP: in INIT, with the PSN it will start sending at. Destroying
// it destroys the QP, then its CQ.
struct PooledQp {
  std::shared_ptr<verbs::Cq> cq;
  std::unique_ptr<verbs::Qp> qp;
  uint32_t psn = 0;
};

// Makes and resets pooled QPs. Implementations are called from several
// threads at once (a pool's refill thread and its callers) and must be
// thread-safe.
class QpFactory {
 public:
  virtual ~QpFactory() = default;

  // Create(): a new QP in INIT, with its own CQ and a random PSN; the
  // failing verb's status otherwise (e.g. the device's QP limit).
  virtual absl::StatusOr<PooledQp> Create() = 0;

  // ResetToInit(): a used QP back to INIT (through RESET), its old
  // completions drained, with a new PSN. On error `qp` is left to be
  // destroyed.
  virtual absl::Status ResetToInit(PooledQp& qp) = 0;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_QP_FACTORY_H_
