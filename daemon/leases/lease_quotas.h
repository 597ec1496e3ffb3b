// LeaseQuotas: what each tenant (a uid, as SO_PEERCRED tells) may hold in
// memory leases, and what swiftd holds for all of them.
//
// Per tenant: leases at once (--max_leases_per_tenant) and their bytes
// (--max_lease_bytes_per_tenant), which also bound the tenant's pool: a
// region populated ahead of time counts against the tenant's bytes until
// it is leased (then as the lease) or dropped, so a pool never holds more
// than its tenant could lease. Per host: leased plus pooled bytes
// (--max_lease_bytes_total), root included. Root is counted but never
// refused per tenant (as in daemon/broker/broker_quotas.h). Refusals are
// kResourceExhausted naming the tenant, its use, the quota and its flag.
//
// Counting only: owners take before they create and give back when the
// object goes, so a quota is never overshot by concurrent requests.
// Thread-safe; a leaf lock.
#ifndef SWIFT_DAEMON_LEASES_LEASE_QUOTAS_H_
#define SWIFT_DAEMON_LEASES_LEASE_QUOTAS_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace swift {

inline constexpr char kMaxLeasesPerTenantFlag[] = "--max_leases_per_tenant";
inline constexpr char kMaxLeaseBytesPerTenantFlag[] =
    "--max_lease_bytes_per_tenant";
inline constexpr char kMaxLeaseBytesTotalFlag[] = "--max_lease_bytes_total";

class LeaseQuotas final {
 public:
  // 0 means no limit.
  struct Limits {
    int64_t leases_per_tenant = 64;                 // --max_leases_per_tenant
    uint64_t bytes_per_tenant = uint64_t{1} << 30;  // 1 GiB
    uint64_t bytes_total = uint64_t{4} << 30;       // 4 GiB
  };

  struct Usage {
    int64_t leases = 0;
    uint64_t leased_bytes = 0;
    uint64_t pooled_bytes = 0;
  };

  explicit LeaseQuotas(Limits limits) : limits_(limits) {}
  LeaseQuotas(const LeaseQuotas&) = delete;
  LeaseQuotas& operator=(const LeaseQuotas&) = delete;

  // AcquireLease()
  //
  // Counts one lease of `bytes` for `uid`, or nothing: kResourceExhausted
  // (naming the flag) when that passes the tenant's lease count, its bytes
  // (leased only: its pooled bytes are what it is about to lease), or the
  // host's total.
  absl::Status AcquireLease(uid_t uid, uint64_t bytes);

  // ConvertPooled()
  //
  // A pooled region of `pooled_bytes` becomes a lease of `lease_bytes` (<=
  // pooled_bytes; the rest is freed): checked as AcquireLease() minus the
  // host total, which this can only lower.
  absl::Status ConvertPooled(uid_t uid, uint64_t pooled_bytes,
                             uint64_t lease_bytes);

  // ReservePooled(): whether `uid`'s pool may populate `bytes` more
  // (tenant's leased + pooled + bytes within its byte quota, host total
  // too; root's per-tenant quota is not applied); counts them if so.
  bool ReservePooled(uid_t uid, uint64_t bytes);

  // ShrinkLease(): a lease counted as `from` bytes turned out `to` (<=
  // from) bytes (huge pages were asked for and normal pages given).
  void ShrinkLease(uid_t uid, uint64_t from, uint64_t to);

  // Give back what the calls above took.
  void ReleaseLease(uid_t uid, uint64_t bytes);
  void ReleasePooled(uid_t uid, uint64_t bytes);

  Usage UsageOf(uid_t uid) const;
  // Leased plus pooled bytes of every tenant.
  uint64_t total_bytes() const;
  // The limits now, and new ones (a config reload): they apply to what is
  // asked from now on; what is held already is not taken back.
  Limits limits() const ABSL_LOCKS_EXCLUDED(mu_);
  void SetLimits(const Limits& limits) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status CheckTenant(uid_t uid, const Usage& usage, uint64_t bytes) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropIfEmpty(uid_t uid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Limits limits_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uid_t, Usage> usage_ ABSL_GUARDED_BY(mu_);
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_LEASES_LEASE_QUOTAS_H_
