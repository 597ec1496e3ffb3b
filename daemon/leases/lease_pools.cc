// LeasePools implementation; see lease_pools.h.
#include "daemon/leases/lease_pools.h"

#include <utility>

#include "common/idle_priority.h"
#include "glog/logging.h"

namespace swift {
namespace {

// What the refill thread waits after a failed populate (out of memory or
// huge pages): it retries, but must not spin.
constexpr absl::Duration kRetryPause = absl::Seconds(1);
// How often idle pools are looked for when nothing wakes the thread.
constexpr absl::Duration kIdleCheck = absl::Seconds(1);

// The region size in whole pages, in whole huge pages when those are
// tried (so that the fallback to normal pages has the same size, which
// the quota was reserved for).
LeasePools::Options Rounded(LeasePools::Options options) {
  const bool huge = options.try_hugepages &&
                    options.region_bytes >= MemfdRegion::HugepageBytes();
  options.region_bytes = MemfdRegion::RoundUp(options.region_bytes, huge);
  return options;
}

}  // namespace

LeasePools::LeasePools(Options options, LeaseQuotas* quotas)
    : options_(Rounded(options)),
      quotas_(quotas),
      refill_thread_([this] { RefillLoop(); }) {}

LeasePools::~LeasePools() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  refill_thread_.join();
  absl::MutexLock lock(&mu_);
  for (auto& [uid, pool] : pools_) {
    for (const MemfdRegion& region : pool.ready) {
      quotas_->ReleasePooled(uid, region.size());
    }
  }
  pools_.clear();
}

std::optional<MemfdRegion> LeasePools::Take(uid_t uid, uint64_t bytes) {
  if (options_.regions_per_tenant <= 0) {
    return std::nullopt;
  }
  absl::MutexLock lock(&mu_);
  Pool& pool = pools_[uid];
  pool.last_used = absl::Now();
  woken_ = true;
  if (bytes > options_.region_bytes || pool.ready.empty()) {
    return std::nullopt;
  }
  MemfdRegion region = std::move(pool.ready.front());
  pool.ready.pop_front();
  return region;
}

void LeasePools::NoteHolding(uid_t uid, bool holds_leases) {
  absl::MutexLock lock(&mu_);
  auto it = pools_.find(uid);
  if (it != pools_.end()) {
    it->second.holds_leases = holds_leases;
    it->second.last_used = absl::Now();
  }
  woken_ = true;
}

void LeasePools::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

std::optional<uid_t> LeasePools::NextToRefill() {
  const absl::Time now = absl::Now();
  for (auto it = pools_.begin(); it != pools_.end();) {
    Pool& pool = it->second;
    if (!pool.holds_leases && now - pool.last_used > options_.idle_timeout) {
      for (const MemfdRegion& region : pool.ready) {
        quotas_->ReleasePooled(it->first, region.size());
      }
      pools_.erase(it++);
      continue;
    }
    if (static_cast<int>(pool.ready.size()) < options_.regions_per_tenant &&
        quotas_->ReservePooled(it->first, options_.region_bytes)) {
      return it->first;
    }
    ++it;
  }
  return std::nullopt;
}

void LeasePools::RefillLoop() {
  // Populating zeroes every page: CPU that a client starting now needs
  // more (a lease taken wakes this thread during the taker's own start).
  if (absl::Status idle = RunThisThreadWhenIdle(); !idle.ok()) {
    LOG(WARNING) << "Lease regions are populated at normal priority: " << idle;
  }
  absl::MutexLock lock(&mu_);
  uint64_t failures = 0;
  while (!stopping_) {
    const std::optional<uid_t> tenant = NextToRefill();
    if (!tenant.has_value()) {
      woken_ = false;
      auto stop_or_woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || woken_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&stop_or_woken), kIdleCheck);
      continue;
    }
    // Populating takes milliseconds per MiB: never under the lock, which
    // Take() needs on the lease path.
    mu_.Unlock();
    absl::StatusOr<MemfdRegion> region = MemfdRegion::Create(
        "swift-lease", options_.region_bytes, options_.try_hugepages);
    mu_.Lock();
    if (!region.ok()) {
      quotas_->ReleasePooled(*tenant, options_.region_bytes);
      if (failures++ % 100 == 0) {
        LOG(WARNING) << "Cannot populate a memory lease region of "
                     << options_.region_bytes << " bytes for uid " << *tenant
                     << " (failure " << failures
                     << "); leases are populated on demand meanwhile: "
                     << region.status();
      }
      auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&stopped), kRetryPause);
      continue;
    }
    auto it = pools_.find(*tenant);
    if (it == pools_.end() || stopping_) {
      quotas_->ReleasePooled(*tenant, options_.region_bytes);
      continue;  // The region is freed here.
    }
    populated_bytes_ += region->size();
    populate_time_ += region->populate_time();
    it->second.hugepage = region->hugepage();
    it->second.ready.push_back(*std::move(region));
  }
}

std::vector<LeasePools::PoolStats> LeasePools::Stats() const {
  std::vector<PoolStats> stats;
  absl::MutexLock lock(&mu_);
  for (const auto& [uid, pool] : pools_) {
    PoolStats row;
    row.uid = uid;
    row.ready = static_cast<int>(pool.ready.size());
    for (const MemfdRegion& region : pool.ready) {
      row.ready_bytes += region.size();
    }
    row.hugepage = pool.hugepage;
    stats.push_back(row);
  }
  return stats;
}

uint64_t LeasePools::populated_bytes() const {
  absl::MutexLock lock(&mu_);
  return populated_bytes_;
}

absl::Duration LeasePools::populate_time() const {
  absl::MutexLock lock(&mu_);
  return populate_time_;
}

}  // namespace swift
