// LeaseQuotas implementation; see lease_quotas.h.
#include "daemon/leases/lease_quotas.h"

#include "absl/strings/str_cat.h"

namespace swift {

LeaseQuotas::Limits LeaseQuotas::limits() const {
  absl::MutexLock lock(&mu_);
  return limits_;
}

void LeaseQuotas::SetLimits(const Limits& limits) {
  absl::MutexLock lock(&mu_);
  limits_ = limits;
}

absl::Status LeaseQuotas::CheckTenant(uid_t uid, const Usage& usage,
                                      uint64_t bytes) const {
  if (uid == 0) {
    return absl::OkStatus();
  }
  if (limits_.leases_per_tenant > 0 &&
      usage.leases + 1 > limits_.leases_per_tenant) {
    return absl::ResourceExhaustedError(
        absl::StrCat("uid ", uid, " holds ", usage.leases,
                     " memory leases and asked for one more: its quota is ",
                     limits_.leases_per_tenant, " (", kMaxLeasesPerTenantFlag,
                     "); release one first"));
  }
  if (limits_.bytes_per_tenant > 0 &&
      usage.leased_bytes + bytes > limits_.bytes_per_tenant) {
    return absl::ResourceExhaustedError(
        absl::StrCat("uid ", uid, " holds ", usage.leased_bytes,
                     " bytes of memory leases and asked for ", bytes,
                     " more: its quota is ", limits_.bytes_per_tenant,
                     " bytes (", kMaxLeaseBytesPerTenantFlag, ")"));
  }
  return absl::OkStatus();
}

absl::Status LeaseQuotas::AcquireLease(uid_t uid, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  Usage& usage = usage_[uid];
  absl::Status allowed = CheckTenant(uid, usage, bytes);
  if (allowed.ok() && limits_.bytes_total > 0 &&
      total_ + bytes > limits_.bytes_total) {
    allowed = absl::ResourceExhaustedError(
        absl::StrCat("swiftd holds ", total_,
                     " bytes of memory leases and pools for all tenants; ",
                     bytes, " more would pass ", limits_.bytes_total,
                     " bytes (", kMaxLeaseBytesTotalFlag, ")"));
  }
  if (!allowed.ok()) {
    DropIfEmpty(uid);
    return allowed;
  }
  ++usage.leases;
  usage.leased_bytes += bytes;
  total_ += bytes;
  return absl::OkStatus();
}

absl::Status LeaseQuotas::ConvertPooled(uid_t uid, uint64_t pooled_bytes,
                                        uint64_t lease_bytes) {
  absl::MutexLock lock(&mu_);
  Usage& usage = usage_[uid];
  if (absl::Status allowed = CheckTenant(uid, usage, lease_bytes);
      !allowed.ok()) {
    return allowed;
  }
  ++usage.leases;
  usage.leased_bytes += lease_bytes;
  usage.pooled_bytes -= pooled_bytes;
  total_ = total_ - pooled_bytes + lease_bytes;
  return absl::OkStatus();
}

bool LeaseQuotas::ReservePooled(uid_t uid, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  Usage& usage = usage_[uid];
  const bool tenant_fits = uid == 0 || limits_.bytes_per_tenant == 0 ||
                           usage.leased_bytes + usage.pooled_bytes + bytes <=
                               limits_.bytes_per_tenant;
  const bool host_fits =
      limits_.bytes_total == 0 || total_ + bytes <= limits_.bytes_total;
  if (!tenant_fits || !host_fits) {
    DropIfEmpty(uid);
    return false;
  }
  usage.pooled_bytes += bytes;
  total_ += bytes;
  return true;
}

void LeaseQuotas::ShrinkLease(uid_t uid, uint64_t from, uint64_t to) {
  absl::MutexLock lock(&mu_);
  usage_[uid].leased_bytes -= from - to;
  total_ -= from - to;
}

void LeaseQuotas::ReleaseLease(uid_t uid, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  Usage& usage = usage_[uid];
  --usage.leases;
  usage.leased_bytes -= bytes;
  total_ -= bytes;
  DropIfEmpty(uid);
}

void LeaseQuotas::ReleasePooled(uid_t uid, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  usage_[uid].pooled_bytes -= bytes;
  total_ -= bytes;
  DropIfEmpty(uid);
}

LeaseQuotas::Usage LeaseQuotas::UsageOf(uid_t uid) const {
  absl::MutexLock lock(&mu_);
  auto it = usage_.find(uid);
  return it == usage_.end() ? Usage() : it->second;
}

uint64_t LeaseQuotas::total_bytes() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

void LeaseQuotas::DropIfEmpty(uid_t uid) {
  auto it = usage_.find(uid);
  if (it != usage_.end() && it->second.leases == 0 &&
      it->second.leased_bytes == 0 && it->second.pooled_bytes == 0) {
    usage_.erase(it);
  }
}

}  // namespace swift
