// QpPool implementation; see qp_pool.h.
#include "client/qp_pool.h"

#include "common/thread_name.h"

namespace swift {

QpPool::~QpPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (refill_thread_.joinable()) {
    refill_thread_.join();
  }
}

absl::StatusOr<PooledQp> QpPool::Create() {
  absl::StatusOr<PooledQp> pooled = factory_->Create();
  if (pooled.ok()) {
    absl::MutexLock lock(&mu_);
    ++stats_.created;
  }
  return pooled;
}

absl::Status QpPool::Fill(int count) {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Resting QPs count: they are ready soon, and the pool never holds
      // more QPs than asked.
      if (PooledLocked() >= count || stopping_) {
        return absl::OkStatus();
      }
    }
    absl::StatusOr<PooledQp> pooled = Create();
    if (!pooled.ok()) {
      return pooled.status();
    }
    absl::MutexLock lock(&mu_);
    // A QP recycled or returned while this one was being created may have
    // filled the pool already: never hold more than asked.
    if (PooledLocked() >= count) {
      ++stats_.destroyed;
      return absl::OkStatus();  // `pooled` goes after the lock (declared
                                // first).
    }
    ready_.push_back(*std::move(pooled));
  }
}

void QpPool::StartRefill() {
  refill_thread_ = std::thread([this] {
    NameThisThread("swift-qp-refill");
    RefillLoop();
  });
}

void QpPool::RefillLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Resting QPs count as Fill() counts them (else this would spin
      // while they rest).
      auto needs_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || PooledLocked() < options_.low;
      };
      mu_.Await(absl::Condition(&needs_work));
      if (stopping_) {
        return;
      }
    }
    // Failures (e.g. the device's QP limit) leave the pool short; Take()
    // then creates on demand and reports the error to its caller.
    (void)Fill(options_.high);
  }
}

int QpPool::PooledLocked() const {
  return static_cast<int>(ready_.size() + resting_.size());
}

void QpPool::WakeRestedLocked(absl::Time now) {
  while (!resting_.empty() && resting_.front().until <= now) {
    ready_.push_back(std::move(resting_.front().qp));
    resting_.pop_front();
  }
}

absl::StatusOr<PooledQp> QpPool::Take() {
  {
    absl::MutexLock lock(&mu_);
    if (std::optional<PooledQp> pooled = TakeReadyLocked()) {
      return *std::move(pooled);
    }
    ++stats_.misses;
  }
  return Create();
}

std::optional<PooledQp> QpPool::TakeReady() {
  absl::MutexLock lock(&mu_);
  return TakeReadyLocked();
}

std::optional<PooledQp> QpPool::TakeReadyLocked() {
  WakeRestedLocked(absl::Now());
  if (ready_.empty()) {
    return std::nullopt;
  }
  PooledQp pooled = std::move(ready_.front());
  ready_.pop_front();
  ++stats_.hits;
  return pooled;
}

void QpPool::Return(PooledQp pooled) {
  absl::MutexLock lock(&mu_);
  ready_.push_front(std::move(pooled));
}

void QpPool::Recycle(PooledQp pooled, bool rest) {
  if (factory_->ResetToInit(pooled).ok()) {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    ++stats_.recycled;
    WakeRestedLocked(now);
    if (PooledLocked() < options_.high) {
      if (rest && options_.quiet_period > absl::ZeroDuration()) {
        resting_.push_back({std::move(pooled), now + options_.quiet_period});
      } else {
        ready_.push_back(std::move(pooled));
      }
      return;
    }
  }
  absl::MutexLock lock(&mu_);
  ++stats_.destroyed;
  // `pooled` goes out of scope here: the QP, then its CQ, are destroyed.
}

PoolStats QpPool::stats() const {
  absl::MutexLock lock(&mu_);
  PoolStats stats = stats_;
  stats.ready = static_cast<int>(ready_.size());
  stats.resting = static_cast<int>(resting_.size());
  return stats;
}

}  // namespace swift
