// ContextManager implementation; see context_manager.h.
#include "daemon/contexts/context_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/idle_priority.h"
#include "glog/logging.h"

namespace swift {
namespace {

// The refill thread looks again this often at least (retries after a
// failed open fall due without any other wake-up).
constexpr absl::Duration kRefillTick = absl::Seconds(1);

uint32_t MicrosSince(absl::Time start) {
  return static_cast<uint32_t>(std::min<int64_t>(
      absl::ToInt64Microseconds(absl::Now() - start), UINT32_MAX));
}

}  // namespace

ContextManager::ContextManager(Options options)
    : options_(std::move(options)), refill_([this] { Refill(); }) {}

ContextManager::~ContextManager() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  refill_.join();
  // Closed here, outside the lock, with everything else the members hold.
  absl::flat_hash_map<uint64_t, Held> held;
  absl::flat_hash_map<std::string, Pool> pools;
  absl::MutexLock lock(&mu_);
  held.swap(held_);
  pools.swap(pools_);
}

absl::StatusOr<ContextManager::Grant> ContextManager::Share(
    const Holder& holder, const v1::ShareContextCall& call) {
  const absl::Time start = absl::Now();
  const std::string& device = call.device();
  if (device.empty()) {
    return absl::InvalidArgumentError("share_context: no device named");
  }
  if (options_.check_device) {
    if (absl::Status usable = options_.check_device(device); !usable.ok()) {
      return usable;
    }
  }
  uint64_t id = 0;
  std::unique_ptr<SharedContext> context;
  {
    absl::MutexLock lock(&mu_);
    if (const int held = TenantCount(holder.uid);
        held >= options_.max_per_tenant) {
      return absl::ResourceExhaustedError(
          absl::StrCat("share_context: uid ", holder.uid, " holds ", held,
                       " shared device contexts, the most "
                       "--max_shared_contexts_per_tenant allows"));
    }
    if (auto pool = pools_.find(device);
        pool != pools_.end() && !pool->second.ready.empty()) {
      context = std::move(pool->second.ready.front());
      pool->second.ready.pop_front();
    }
    // Reserved now, so that concurrent calls count against the quota.
    id = next_id_++;
    held_[id] = Held{id, holder, device, absl::Now(), nullptr};
  }
  const bool from_pool = context != nullptr;
  auto unreserve = [this, id] {
    absl::MutexLock lock(&mu_);
    held_.erase(id);
  };
  if (!from_pool) {
    absl::StatusOr<std::unique_ptr<SharedContext>> opened =
        options_.open(device);
    if (!opened.ok()) {
      unreserve();
      return absl::Status(
          opened.status().code(),
          absl::StrCat("share_context: ", opened.status().message()));
    }
    context = *std::move(opened);
  }
  absl::StatusOr<UniqueFd> fd = context->DupCommandFd();
  if (!fd.ok()) {
    unreserve();
    return fd.status();
  }
  context->MarkHandedOut();
  Grant grant;
  grant.result.set_context_id(id);
  grant.result.set_pd_handle(context->pd_handle());
  grant.result.set_from_pool(from_pool);
  grant.fd = *std::move(fd);
  {
    absl::MutexLock lock(&mu_);
    auto reserved = held_.find(id);
    if (reserved == held_.end()) {
      // The connection ended (or the device went) meanwhile: nobody will
      // receive the fd. `context` closes below, outside the lock.
      return absl::UnavailableError(
          absl::StrCat("share_context: ", device,
                       " went or the connection ended during the call"));
    }
    reserved->second.context = std::move(context);
  }
  grant.result.set_share_us(MicrosSince(start));
  return grant;
}

int ContextManager::ReleaseAllOf(uint64_t channel_id) {
  std::vector<Held> released;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->second.holder.channel_id == channel_id) {
        released.push_back(std::move(it->second));
        held_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  return static_cast<int>(released.size());  // Closed as they go.
}

int ContextManager::DeviceRemoved(const std::string& device) {
  std::vector<Held> released;
  Pool pool;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->second.device == device) {
        released.push_back(std::move(it->second));
        held_.erase(it++);
      } else {
        ++it;
      }
    }
    if (auto it = pools_.find(device); it != pools_.end()) {
      pool = std::move(it->second);
      pools_.erase(it);
    }
  }
  return static_cast<int>(released.size());
}

void ContextManager::SetPooledDevices(const std::vector<std::string>& devices) {
  std::vector<std::unique_ptr<SharedContext>> dropped;
  absl::MutexLock lock(&mu_);
  const absl::flat_hash_set<std::string> wanted(devices.begin(), devices.end());
  for (auto it = pools_.begin(); it != pools_.end();) {
    if (!wanted.contains(it->first)) {
      for (std::unique_ptr<SharedContext>& ready : it->second.ready) {
        dropped.push_back(std::move(ready));
      }
      pools_.erase(it++);
    } else {
      ++it;
    }
  }
  for (const std::string& device : devices) {
    pools_.try_emplace(device);
  }
  // `dropped` closes after the lock is released (declared before it).
}

absl::flat_hash_map<uint64_t, int> ContextManager::CountsByChannel() const {
  absl::flat_hash_map<uint64_t, int> counts;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, held] : held_) {
    ++counts[held.holder.channel_id];
  }
  return counts;
}

int ContextManager::held_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(held_.size());
}

int ContextManager::pooled_count() const {
  absl::MutexLock lock(&mu_);
  int count = 0;
  for (const auto& [device, pool] : pools_) {
    count += static_cast<int>(pool.ready.size());
  }
  return count;
}

int ContextManager::pooled_count(const std::string& device) const {
  absl::MutexLock lock(&mu_);
  auto it = pools_.find(device);
  return it == pools_.end() ? 0 : static_cast<int>(it->second.ready.size());
}

int ContextManager::TenantCount(uid_t uid) const {
  int count = 0;
  for (const auto& [id, held] : held_) {
    count += held.holder.uid == uid ? 1 : 0;
  }
  return count;
}

std::string ContextManager::DeviceToRefill() const {
  const absl::Time now = absl::Now();
  for (const auto& [device, pool] : pools_) {
    if (static_cast<int>(pool.ready.size()) < options_.pool_per_device &&
        pool.retry_at <= now) {
      return device;
    }
  }
  return "";
}

bool ContextManager::RefillWanted() const {
  return stopping_ || !DeviceToRefill().empty();
}

void ContextManager::Refill() {
  // Opening ahead of time must not compete with the cold starts it serves
  // (common/idle_priority.h).
  if (absl::Status idle = RunThisThreadWhenIdle(); !idle.ok()) {
    LOG(WARNING) << "shared contexts' refill runs at normal priority: " << idle;
  }
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.AwaitWithTimeout(absl::Condition(this, &ContextManager::RefillWanted),
                         kRefillTick);
    if (stopping_) {
      return;
    }
    const std::string device = DeviceToRefill();
    if (device.empty()) {
      continue;
    }
    mu_.Unlock();
    absl::StatusOr<std::unique_ptr<SharedContext>> opened =
        options_.open(device);
    mu_.Lock();
    auto pool = pools_.find(device);
    if (stopping_ || pool == pools_.end()) {
      // No longer wanted; closed outside the lock.
      std::unique_ptr<SharedContext> unwanted =
          opened.ok() ? *std::move(opened) : nullptr;
      mu_.Unlock();
      unwanted.reset();
      mu_.Lock();
      continue;
    }
    if (!opened.ok()) {
      if (!pool->second.failing) {
        LOG(WARNING) << "cannot keep shared contexts ready on " << device
                     << " (retrying every " << options_.retry_after
                     << "): " << opened.status();
      }
      pool->second.failing = true;
      pool->second.retry_at = absl::Now() + options_.retry_after;
      continue;
    }
    if (pool->second.failing) {
      LOG(INFO) << "shared contexts on " << device << " open again";
    }
    pool->second.failing = false;
    pool->second.ready.push_back(*std::move(opened));
  }
}

}  // namespace swift
