// LeaseManager implementation; see lease_manager.h.
#include "daemon/leases/lease_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/seqpacket_socket.h"
#include "glog/logging.h"

namespace swift {
namespace {

// A listing page's size at most, leaving room in a fast path message for
// the FastResponse around it (as daemon/api/listings.h).
constexpr size_t kPageBytes = kMaxSeqpacketMessage - 4096;

}  // namespace

LeaseManager::LeaseManager(Options options)
    : options_(std::move(options)),
      quotas_(options_.quotas),
      pools_(options_.pools, &quotas_) {}

absl::StatusOr<LeaseManager::Grant> LeaseManager::Lease(
    const Holder& holder, const v1::LeaseCall& call) {
  const absl::Time start = absl::Now();
  const uint64_t bytes = call.bytes();
  if (bytes == 0) {
    return absl::InvalidArgumentError(
        "lease: bytes is 0; ask for the bytes you will map (at least 1)");
  }
  if (!call.device().empty() && options_.check_device) {
    if (absl::Status known = options_.check_device(call.device());
        !known.ok()) {
      return known;
    }
  }
  bool from_pool = false;
  std::optional<MemfdRegion> region = pools_.Take(holder.uid, bytes);
  if (region.has_value()) {
    const uint64_t size = MemfdRegion::RoundUp(bytes, region->hugepage());
    if (absl::Status allowed =
            quotas_.ConvertPooled(holder.uid, region->size(), size);
        !allowed.ok()) {
      // Freed here; the pool refills it within its quota.
      quotas_.ReleasePooled(holder.uid, region->size());
      return allowed;
    }
    from_pool = true;
  } else {
    const bool huge =
        options_.pools.try_hugepages && bytes >= MemfdRegion::HugepageBytes();
    const uint64_t counted = MemfdRegion::RoundUp(bytes, huge);
    if (absl::Status allowed = quotas_.AcquireLease(holder.uid, counted);
        !allowed.ok()) {
      return allowed;
    }
    absl::StatusOr<MemfdRegion> created =
        MemfdRegion::Create("swift-lease", bytes, options_.pools.try_hugepages);
    if (!created.ok()) {
      quotas_.ReleaseLease(holder.uid, counted);
      return created.status();
    }
    quotas_.ShrinkLease(holder.uid, counted, created->size());
    region = *std::move(created);
  }
  // What the quota counts either way: the trimmed size.
  const uint64_t counted = MemfdRegion::RoundUp(bytes, region->hugepage());
  absl::Status sealed = region->TrimAndSeal(bytes);
  absl::StatusOr<UniqueFd> fd =
      sealed.ok() ? region->Duplicate() : absl::StatusOr<UniqueFd>(sealed);
  if (!fd.ok()) {
    quotas_.ReleaseLease(holder.uid, counted);
    return fd.status();
  }
  auto lease = std::make_unique<Held>(
      Held{0, holder, *std::move(region), absl::Now(), call.device(), ""});
  Grant grant;
  grant.result.set_size_bytes(lease->region.size());
  grant.result.set_hugepage(lease->region.hugepage());
  grant.result.set_from_pool(from_pool);
  grant.fd = *std::move(fd);
  {
    absl::MutexLock lock(&mu_);
    lease->id = next_id_++;
    grant.result.set_lease_id(lease->id);
    leases_[lease->id] = std::move(lease);
  }
  pools_.NoteHolding(holder.uid, true);
  grant.result.set_lease_us(
      static_cast<uint32_t>(absl::ToInt64Microseconds(absl::Now() - start)));
  VLOG(1) << "Lease " << grant.result.lease_id() << " of "
          << grant.result.size_bytes() << " bytes to uid " << holder.uid
          << " pid " << holder.pid << (from_pool ? " (pooled)" : "");
  return grant;
}

void LeaseManager::Reclaim(const Held& lease) {
  quotas_.ReleaseLease(lease.holder.uid, lease.region.size());
  pools_.NoteHolding(lease.holder.uid,
                     quotas_.UsageOf(lease.holder.uid).leases > 0);
}

absl::StatusOr<uint64_t> LeaseManager::Release(uid_t caller_uid,
                                               uint64_t lease_id) {
  std::unique_ptr<Held> lease;
  {
    absl::MutexLock lock(&mu_);
    auto it = leases_.find(lease_id);
    if (it == leases_.end() ||
        (caller_uid != 0 && it->second->holder.uid != caller_uid)) {
      return absl::NotFoundError(absl::StrCat("release_lease: uid ", caller_uid,
                                              " holds no lease ", lease_id,
                                              " (see swiftctl leases)"));
    }
    lease = std::move(it->second);
    leases_.erase(it);
  }
  Reclaim(*lease);
  return lease->region.size();  // swiftd's fd closes with `lease`.
}

absl::StatusOr<std::string> LeaseManager::Check(uid_t caller_uid,
                                                uint64_t lease_id) const {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(lease_id);
  if (it == leases_.end() ||
      (caller_uid != 0 && it->second->holder.uid != caller_uid)) {
    return absl::NotFoundError(absl::StrCat("check_lease: uid ", caller_uid,
                                            " holds no lease ", lease_id,
                                            " (see swiftctl leases)"));
  }
  const Held& lease = *it->second;
  if (!lease.device_error.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lease ", lease_id, " was taken for RDMA device ", lease.device,
        ", which is gone: ", lease.device_error,
        ". What was registered on it is gone too; release the lease (its "
        "memory stays mapped until then) and start again on another "
        "device"));
  }
  return lease.device;
}

int LeaseManager::DeviceRemoved(const std::string& device,
                                const std::string& reason) {
  int marked = 0;
  absl::MutexLock lock(&mu_);
  for (auto& [id, lease] : leases_) {
    if (lease->device == device && lease->device_error.empty()) {
      lease->device_error = reason;
      ++marked;
    }
  }
  if (marked > 0) {
    LOG(WARNING) << marked << " memory lease(s) were taken for RDMA device "
                 << device << ", which is gone: " << reason;
  }
  return marked;
}

int LeaseManager::ReleaseAllOf(uint64_t channel_id) {
  std::vector<std::unique_ptr<Held>> ended;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = leases_.begin(); it != leases_.end();) {
      if (it->second->holder.channel_id == channel_id) {
        ended.push_back(std::move(it->second));
        leases_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (const auto& lease : ended) {
    Reclaim(*lease);
  }
  if (!ended.empty()) {
    VLOG(1) << "Reclaimed " << ended.size()
            << " lease(s) of closed fast path connection " << channel_id;
  }
  return static_cast<int>(ended.size());
}

v1::ListLeasesResponse LeaseManager::List(uid_t caller_uid,
                                          uint32_t offset) const {
  v1::ListLeasesResponse response;
  const bool all = caller_uid == 0;
  const LeaseQuotas::Limits limits = quotas_.limits();  // Reloads change them.
  response.set_max_leases_per_tenant(limits.leases_per_tenant);
  response.set_max_lease_bytes_per_tenant(limits.bytes_per_tenant);
  response.set_max_lease_bytes_total(limits.bytes_total);
  response.set_populated_bytes(pools_.populated_bytes());
  response.set_populate_us(absl::ToInt64Microseconds(pools_.populate_time()));
  for (const LeasePools::PoolStats& stats : pools_.Stats()) {
    if (all || stats.uid == caller_uid) {
      v1::LeasePoolInfo* pool = response.add_pools();
      pool->set_tenant_uid(stats.uid);
      pool->set_ready_regions(stats.ready);
      pool->set_ready_bytes(stats.ready_bytes);
      pool->set_hugepage(stats.hugepage);
    }
  }
  std::vector<v1::LeaseInfo> rows;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, lease] : leases_) {
      if (!all && lease->holder.uid != caller_uid) {
        continue;
      }
      v1::LeaseInfo row;
      row.set_lease_id(id);
      row.set_tenant_uid(lease->holder.uid);
      row.set_holder_pid(lease->holder.pid);
      row.set_holder_name(lease->holder.name);
      row.set_size_bytes(lease->region.size());
      row.set_hugepage(lease->region.hugepage());
      row.set_age_us(absl::ToInt64Microseconds(now - lease->since));
      row.set_device(lease->device);
      row.set_device_error(lease->device_error);
      rows.push_back(std::move(row));
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const v1::LeaseInfo& a, const v1::LeaseInfo& b) {
              return a.lease_id() < b.lease_id();
            });
  for (const v1::LeaseInfo& row : rows) {
    response.set_total_leases(response.total_leases() + 1);
    response.set_total_bytes(response.total_bytes() + row.size_bytes());
  }
  size_t used = response.ByteSizeLong() + 16;
  size_t next = std::min<size_t>(offset, rows.size());
  for (; next < rows.size(); ++next) {
    const size_t row_bytes = rows[next].ByteSizeLong() + 6;
    if (used + row_bytes > kPageBytes) {
      break;
    }
    used += row_bytes;
    *response.add_leases() = std::move(rows[next]);
  }
  response.set_remaining(static_cast<uint32_t>(rows.size() - next));
  return response;
}

absl::flat_hash_map<uint64_t, LeaseManager::Holding>
LeaseManager::HoldingsByChannel() const {
  absl::flat_hash_map<uint64_t, Holding> holdings;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, lease] : leases_) {
    Holding& holding = holdings[lease->holder.channel_id];
    ++holding.leases;
    holding.bytes += lease->region.size();
  }
  return holdings;
}

int LeaseManager::lease_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(leases_.size());
}

uint64_t LeaseManager::leased_bytes() const {
  absl::MutexLock lock(&mu_);
  uint64_t bytes = 0;
  for (const auto& [id, lease] : leases_) {
    bytes += lease->region.size();
  }
  return bytes;
}

}  // namespace swift
