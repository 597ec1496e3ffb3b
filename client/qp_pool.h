// QpPool: RC QPs kept ready in INIT, each with its own CQ, so that a
// connect only has to move one to RTR and RTS. Internal to libswift.
//
// A background thread refills the pool to `high` whenever it falls below
// `low`; Take() creates a QP on the spot only when the pool is empty.
// Thread-safe.
#ifndef SWIFT_CLIENT_QP_POOL_H_
#define SWIFT_CLIENT_QP_POOL_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/verbs/cq.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "common/verbs/qp.h"
#include "swift/session.h"

namespace swift {

// One pooled QP: in INIT, with the PSN it will start sending at.
struct PooledQp {
  std::shared_ptr<verbs::Cq> cq;
  std::unique_ptr<verbs::Qp> qp;
  uint32_t psn = 0;
};

class QpPool final {
 public:
  struct Options {
    int low = 4;
    int high = 16;
    int cq_entries = 128;
    verbs::QpCapacity capacity;
  };

  // `pd` and `port` are those of the session; the pool keeps `pd` alive.
  QpPool(std::shared_ptr<verbs::Pd> pd, verbs::PortAddress port,
         Options options);
  QpPool(const QpPool&) = delete;
  QpPool& operator=(const QpPool&) = delete;
  // Stops the refill thread and destroys the pooled QPs.
  ~QpPool();

  // Fill(): creates QPs until `count` are pooled; the first error stops it.
  absl::Status Fill(int count);

  // Starts the background refill thread.
  void StartRefill();

  // Take(): a QP in INIT (from the pool, or created now).
  absl::StatusOr<PooledQp> Take();

  // Return(): puts back a QP that is still in INIT and was never used.
  void Return(PooledQp qp);

  // Recycle(): a used QP goes RESET -> INIT with a new PSN and back into the
  // pool, or is destroyed when that fails (e.g. it sits in error).
  void Recycle(PooledQp qp);

  PoolStats stats() const;

 private:
  absl::StatusOr<PooledQp> Create();
  absl::Status ResetToInit(PooledQp& pooled);
  void RefillLoop();

  const std::shared_ptr<verbs::Pd> pd_;
  const verbs::PortAddress port_;
  const Options options_;

  mutable absl::Mutex mu_;
  std::deque<PooledQp> ready_ ABSL_GUARDED_BY(mu_);
  PoolStats stats_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refill_thread_;
};

// A random 24-bit PSN.
uint32_t RandomPsn();

}  // namespace swift

#endif  // SWIFT_CLIENT_QP_POOL_H_
