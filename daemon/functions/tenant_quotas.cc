// TenantQuotas implementation; see tenant_quotas.h.
#include "daemon/functions/tenant_quotas.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace swift {
namespace {

// Over `limit` (0: none) once `more` is added to `used`.
bool Over(uint64_t used, uint64_t more, uint32_t limit) {
  return limit != 0 && used + more > limit;
}

absl::Status TooManyWorkers(uint32_t workers, uint32_t limit) {
  return absl::ResourceExhaustedError(
      absl::StrCat("swiftd runs ", workers,
                   " function workers (registered functions, "
                   "registrations under way and COLD invocations), the most "
                   "--max_workers=",
                   limit, " allows; try again later"));
}

}  // namespace

TenantQuotas::Claim::~Claim() {
  if (quotas_ != nullptr) {
    quotas_->Drop(id_);
  }
}

TenantQuotas::Usage TenantQuotas::UsageLocked(uid_t tenant,
                                              const std::string& except,
                                              uint32_t* workers) const {
  Usage usage;
  size_t all = claims_.size();
  for (const Registered& function : registered_()) {
    if (function.name == except) {
      continue;
    }
    ++all;
    if (function.tenant == tenant) {
      ++usage.functions;
      usage.instances += function.instances;
    }
  }
  for (const auto& [id, pending] : claims_) {
    if (pending.tenant != tenant) {
      continue;
    }
    if (pending.cold) {
      ++usage.cold_workers;
    } else {
      ++usage.functions;
      usage.instances += pending.instances;
    }
  }
  if (workers != nullptr) {
    *workers = static_cast<uint32_t>(all);
  }
  return usage;
}

uint64_t TenantQuotas::AddClaim(Pending pending) {
  const uint64_t id = next_id_++;
  claims_.emplace(id, pending);
  return id;
}

absl::StatusOr<TenantQuotas::Claim> TenantQuotas::ClaimFunction(
    const std::string& name, uid_t tenant, uint64_t instances) {
  absl::MutexLock lock(&mu_);
  uint32_t workers = 0;
  const Usage usage = UsageLocked(tenant, name, &workers);
  if (tenant != 0) {
    if (Over(usage.functions, 1, limits_.max_functions_per_tenant)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "uid ", tenant, " has ", usage.functions,
          " functions registered (or being registered), the most "
          "--max_functions_per_tenant=",
          limits_.max_functions_per_tenant, " allows; unregister one first"));
    }
    if (Over(usage.instances, instances, limits_.max_instances_per_tenant)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("function '", name, "' would hold ", instances,
                       " instances (max_instances + spare instances) and uid ",
                       tenant, "'s other functions hold ", usage.instances,
                       ": more than --max_instances_per_tenant=",
                       limits_.max_instances_per_tenant, " allows"));
    }
  }
  if (Over(workers, 1, limits_.max_workers)) {
    return TooManyWorkers(workers, limits_.max_workers);
  }
  return Claim(this, AddClaim(Pending{tenant, instances, /*cold=*/false}));
}

absl::StatusOr<TenantQuotas::Claim> TenantQuotas::ClaimColdWorker(
    uid_t tenant) {
  absl::MutexLock lock(&mu_);
  uint32_t workers = 0;
  const Usage usage = UsageLocked(tenant, "", &workers);
  if (tenant != 0 &&
      Over(usage.cold_workers, 1, limits_.max_cold_workers_per_tenant)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "uid ", tenant, " has ", usage.cold_workers,
        " COLD invocations running (each starts a worker), the most "
        "--max_cold_workers_per_tenant=",
        limits_.max_cold_workers_per_tenant,
        " allows; try again when one ends, or invoke WARM or FORK"));
  }
  if (Over(workers, 1, limits_.max_workers)) {
    return TooManyWorkers(workers, limits_.max_workers);
  }
  return Claim(this, AddClaim(Pending{tenant, 0, /*cold=*/true}));
}

TenantQuotas::Limits TenantQuotas::limits() const {
  absl::MutexLock lock(&mu_);
  return limits_;
}

void TenantQuotas::SetLimits(const Limits& limits) {
  absl::MutexLock lock(&mu_);
  limits_ = limits;
}

TenantQuotas::Usage TenantQuotas::UsageOf(uid_t tenant) const {
  absl::MutexLock lock(&mu_);
  return UsageLocked(tenant, "", nullptr);
}

uint32_t TenantQuotas::workers() const {
  absl::MutexLock lock(&mu_);
  uint32_t workers = 0;
  UsageLocked(0, "", &workers);
  return workers;
}

void TenantQuotas::Drop(uint64_t id) {
  absl::MutexLock lock(&mu_);
  claims_.erase(id);
}

}  // namespace swift
