// QpPool implementation; see qp_pool.h.
#include "client/qp_pool.h"

#include <random>

#include "common/verbs/qp_transitions.h"

namespace swift {

uint32_t RandomPsn() {
  thread_local std::mt19937 generator{std::random_device{}()};
  return std::uniform_int_distribution<uint32_t>(0, 0xffffff)(generator);
}

QpPool::QpPool(std::shared_ptr<verbs::Pd> pd, verbs::PortAddress port,
               Options options)
    : pd_(std::move(pd)), port_(port), options_(options) {}

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
  PooledQp pooled;
  absl::StatusOr<std::shared_ptr<verbs::Cq>> cq =
      verbs::Cq::Create(pd_->context(), options_.cq_entries);
  if (!cq.ok()) {
    return cq.status();
  }
  pooled.cq = *std::move(cq);
  absl::StatusOr<std::unique_ptr<verbs::Qp>> qp = verbs::Qp::Create(
      pd_, pooled.cq, pooled.cq, IBV_QPT_RC, options_.capacity);
  if (!qp.ok()) {
    return qp.status();
  }
  pooled.qp = *std::move(qp);
  if (absl::Status init = verbs::ModifyRcToInit(*pooled.qp, port_.port_num);
      !init.ok()) {
    return init;
  }
  pooled.psn = RandomPsn();
  absl::MutexLock lock(&mu_);
  ++stats_.created;
  return pooled;
}

absl::Status QpPool::Fill(int count) {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (static_cast<int>(ready_.size()) >= count || stopping_) {
        return absl::OkStatus();
      }
    }
    absl::StatusOr<PooledQp> pooled = Create();
    if (!pooled.ok()) {
      return pooled.status();
    }
    absl::MutexLock lock(&mu_);
    ready_.push_back(*std::move(pooled));
  }
}

void QpPool::StartRefill() {
  refill_thread_ = std::thread([this] { RefillLoop(); });
}

void QpPool::RefillLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto needs_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || static_cast<int>(ready_.size()) < options_.low;
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

absl::StatusOr<PooledQp> QpPool::Take() {
  {
    absl::MutexLock lock(&mu_);
    if (!ready_.empty()) {
      PooledQp pooled = std::move(ready_.front());
      ready_.pop_front();
      ++stats_.hits;
      return pooled;
    }
    ++stats_.misses;
  }
  return Create();
}

void QpPool::Return(PooledQp pooled) {
  absl::MutexLock lock(&mu_);
  ready_.push_front(std::move(pooled));
}

absl::Status QpPool::ResetToInit(PooledQp& pooled) {
  if (absl::Status reset = verbs::ModifyToReset(*pooled.qp); !reset.ok()) {
    return reset;
  }
  // Completions of the previous connection must not leak into the next.
  ibv_wc drained[16];
  while (true) {
    absl::StatusOr<int> count = pooled.cq->Poll(drained, 16);
    if (!count.ok() || *count == 0) {
      break;
    }
  }
  if (absl::Status init = verbs::ModifyRcToInit(*pooled.qp, port_.port_num);
      !init.ok()) {
    return init;
  }
  pooled.psn = RandomPsn();
  return absl::OkStatus();
}

void QpPool::Recycle(PooledQp pooled) {
  if (ResetToInit(pooled).ok()) {
    absl::MutexLock lock(&mu_);
    ++stats_.recycled;
    if (static_cast<int>(ready_.size()) < options_.high) {
      ready_.push_back(std::move(pooled));
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
  return stats;
}

}  // namespace swift
