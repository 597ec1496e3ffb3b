// QpPool: RC QPs kept ready in INIT, each with its own CQ, so that a
// connect only has to move one to RTR and RTS. Internal to libswift.
//
// A background thread refills the pool to `high` whenever it falls below
// `low`; Take() creates a QP on the spot only when the pool is empty. The
// QPs themselves come from a QpFactory (qp_factory.h): the pool only keeps
// count. Thread-safe.
#ifndef SWIFT_CLIENT_QP_POOL_H_
#define SWIFT_CLIENT_QP_POOL_H_

#include <deque>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/qp_factory.h"
#include "swift/session.h"

namespace swift {

class QpPool final {
 public:
  struct Options {
    int low = 4;
    int high = 16;
    // A recycled QP rests this long before it is taken again (see
    // SessionOptions::recycle_quiet_period).
    absl::Duration quiet_period = absl::ZeroDuration();
  };

  QpPool(std::unique_ptr<QpFactory> factory, Options options)
      : factory_(std::move(factory)), options_(options) {}
  QpPool(const QpPool&) = delete;
  QpPool& operator=(const QpPool&) = delete;
  // Stops the refill thread and destroys the pooled QPs.
  ~QpPool();

  // Fill(): creates QPs until `count` are pooled (resting ones included);
  // the first error stops it.
  absl::Status Fill(int count);

  // Starts the background refill thread.
  void StartRefill();

  // Take(): a QP in INIT (from the pool, or created now).
  absl::StatusOr<PooledQp> Take();

  // TakeReady(): a QP in INIT the pool holds ready, or nullopt when it
  // holds none: never creates one, for a caller that must not wait.
  std::optional<PooledQp> TakeReady();

  // Return(): puts back a QP that is still in INIT and was never used; it
  // is the next one taken.
  void Return(PooledQp qp);

  // Recycle(): a used QP goes RESET -> INIT with a new PSN and back into the
  // pool, or is destroyed when that fails (e.g. it sits in error) or the
  // pool already holds `high` (resting ones included). With `rest`, it
  // rests for the quiet period first: its peer may not know the
  // connection ended and may still send to it.
  void Recycle(PooledQp qp, bool rest = false);

  PoolStats stats() const;

 private:
  absl::StatusOr<PooledQp> Create();
  void RefillLoop();
  // A ready QP (resting ones whose quiet period is over included), or
  // nullopt; counted as a hit.
  std::optional<PooledQp> TakeReadyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // QPs held, ready or resting: what `low`, `high` and Fill() count.
  int PooledLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Resting QPs whose quiet period is over join the ready ones.
  void WakeRestedLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Resting {
    PooledQp qp;
    absl::Time until;
  };

  const std::unique_ptr<QpFactory> factory_;
  const Options options_;

  mutable absl::Mutex mu_;
  std::deque<PooledQp> ready_ ABSL_GUARDED_BY(mu_);
  std::deque<Resting> resting_ ABSL_GUARDED_BY(mu_);
  PoolStats stats_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refill_thread_;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_QP_POOL_H_
