// InstancePool implementation; see instance_pool.h.
#include "daemon/worker/instance_pool.h"

#include <algorithm>
#include <utility>

namespace swift {

void InstancePool::Add(uint64_t id, absl::Time now) {
  Instance instance;
  instance.id = id;
  instance.idle_since = now;
  instances_.push_back(instance);
}

void InstancePool::AddRunning(uint64_t id, Job job) {
  Instance instance;
  instance.id = id;
  instance.idle_since = job.started;
  instance.busy = true;
  instance.fresh = false;
  job.spare = false;
  instance.job = job;
  instances_.push_back(instance);
}

void InstancePool::Start(uint64_t id, Job job) {
  Instance* instance = Mutable(id);
  if (instance == nullptr) {
    return;
  }
  job.spare = instance->fresh;
  instance->job = job;
  instance->busy = true;
  instance->fresh = false;
}

void InstancePool::Park(uint64_t id, uint64_t route) {
  if (Instance* instance = Mutable(id); instance != nullptr) {
    instance->parked_route = route;
  }
}

uint64_t InstancePool::Unpark(uint64_t id) {
  Instance* instance = Mutable(id);
  return instance == nullptr ? 0 : std::exchange(instance->parked_route, 0);
}

InstancePool::Job InstancePool::Finish(uint64_t id, absl::Time now) {
  Instance* instance = Mutable(id);
  if (instance == nullptr) {
    return Job();
  }
  instance->busy = false;
  instance->idle_since = now;
  last_activity_ = now;
  return instance->job;
}

void InstancePool::Retire(uint64_t id) {
  if (Instance* instance = Mutable(id); instance != nullptr) {
    instance->retiring = true;
  }
}

void InstancePool::Remove(uint64_t id) {
  instances_.erase(
      std::remove_if(instances_.begin(), instances_.end(),
                     [id](const Instance& i) { return i.id == id; }),
      instances_.end());
}

const InstancePool::Instance* InstancePool::Find(uint64_t id) const {
  for (const Instance& instance : instances_) {
    if (instance.id == id) {
      return &instance;
    }
  }
  return nullptr;
}

InstancePool::Instance* InstancePool::Mutable(uint64_t id) {
  return const_cast<Instance*>(Find(id));
}

int InstancePool::Live() const {
  return static_cast<int>(
      std::count_if(instances_.begin(), instances_.end(),
                    [](const Instance& i) { return i.live(); }));
}

int InstancePool::Busy() const {
  return static_cast<int>(
      std::count_if(instances_.begin(), instances_.end(),
                    [](const Instance& i) { return i.live() && i.busy; }));
}

int InstancePool::Spares() const {
  return static_cast<int>(
      std::count_if(instances_.begin(), instances_.end(),
                    [](const Instance& i) { return i.spare(); }));
}

std::optional<uint64_t> InstancePool::ToRetire() const {
  const Instance* oldest = nullptr;
  for (const Instance& instance : instances_) {
    if (instance.idle() && !instance.fresh &&
        (oldest == nullptr || instance.idle_since < oldest->idle_since)) {
      oldest = &instance;
    }
  }
  return oldest == nullptr ? std::nullopt : std::optional<uint64_t>(oldest->id);
}

std::optional<uint64_t> InstancePool::FindIdle(bool fresh) const {
  for (const Instance& instance : instances_) {
    if (instance.idle() && instance.fresh == fresh &&
        instance.parked_route == 0) {
      return instance.id;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> InstancePool::SpareToPark() const {
  for (const Instance& instance : instances_) {
    if (instance.spare() && instance.parked_route == 0) {
      return instance.id;
    }
  }
  return std::nullopt;
}

int InstancePool::MissingSpares() const {
  for (const Instance& instance : instances_) {
    if (instance.busy) {
      return 0;
    }
  }
  return std::max(0, options_.spares - Spares());
}

absl::Time InstancePool::NextSpareFork() const {
  if (MissingSpares() == 0) {
    return absl::InfiniteFuture();
  }
  return std::max(last_activity_ + options_.quiet_period, spare_retry_at_);
}

std::vector<InstancePool::Expired> InstancePool::ExpiredAt(
    absl::Time now) const {
  std::vector<Expired> expired;
  for (const Instance& instance : instances_) {
    if (instance.busy && now >= instance.job.deadline) {
      expired.push_back({instance.id, Expiry::kDeadline});
    } else if (!instance.busy && !instance.fresh &&
               now - instance.idle_since >= options_.idle_timeout) {
      expired.push_back({instance.id, Expiry::kIdle});
    }
  }
  return expired;
}

absl::Time InstancePool::NextWake() const {
  absl::Time wake = NextSpareFork();
  for (const Instance& instance : instances_) {
    if (instance.busy) {
      wake = std::min(wake, instance.job.deadline);
    } else if (!instance.fresh) {
      wake = std::min(wake, instance.idle_since + options_.idle_timeout);
    }
  }
  return wake;
}

std::vector<uint64_t> InstancePool::Ids() const {
  std::vector<uint64_t> ids;
  ids.reserve(instances_.size());
  for (const Instance& instance : instances_) {
    ids.push_back(instance.id);
  }
  return ids;
}

}  // namespace swift
