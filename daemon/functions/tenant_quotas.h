// TenantQuotas: how much of swiftd's function runtime each tenant may
// hold, and how many workers swiftd runs in all (issue 10).
//
// A tenant is the uid a function runs as (who may invoke and unregister
// it: function_access.h). Every function costs a worker process and up to
// max_instances + spare_instances forked instances, each with connected
// QPs, and every COLD invocation starts a worker of its own; without
// bounds one tenant could fill the host with processes. So a tenant may
// register at most max_functions_per_tenant functions, whose instances
// add up to at most max_instances_per_tenant, and run at most
// max_cold_workers_per_tenant COLD invocations at once; swiftd runs at
// most max_workers workers in all (one per registered function, plus
// registrations being started and COLD workers). Requests over a quota
// fail with kResourceExhausted naming its flag.
//
// Functions that run as root are exempt from the per-tenant quotas (root
// is the administrator, and can change the flags anyway) but count
// toward max_workers, which bounds swiftd as a whole. Restored functions
// (admitted when first registered) are counted but never refused.
//
// Registered functions are counted from the registry itself (through a
// callback), so the two can never disagree; what is not registered yet is
// claimed before its worker starts (a Claim, given back when destroyed, so
// after the registration is added or has failed) so that concurrent
// requests cannot all pass the check and then overshoot. In between a
// registration counts twice, which errs on the safe side. Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_TENANT_QUOTAS_H_
#define SWIFT_DAEMON_FUNCTIONS_TENANT_QUOTAS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace swift {

class TenantQuotas final {
 public:
  // 0 in any field: no limit.
  struct Limits {
    // Functions one tenant may have registered.
    uint32_t max_functions_per_tenant = 16;
    // max_instances + spare instances, summed over one tenant's functions.
    uint32_t max_instances_per_tenant = 64;
    // COLD invocations of one tenant running at once.
    uint32_t max_cold_workers_per_tenant = 4;
    // Function workers in all (see above).
    uint32_t max_workers = 256;
  };

  // What a tenant holds (registrations and COLD invocations under way
  // included).
  struct Usage {
    uint32_t functions = 0;
    uint64_t instances = 0;
    uint32_t cold_workers = 0;
  };

  // A registered function, as the quotas count it.
  struct Registered {
    std::string name;
    uid_t tenant = 0;
    // max_instances + spare instances.
    uint64_t instances = 0;
  };
  // Every registered function (being restored included), taken under the
  // registry's lock: TenantQuotas calls it with its own lock held, so it
  // must never call back into TenantQuotas.
  using RegisteredFunctions = std::function<std::vector<Registered>()>;

  // Room claimed for a registration or a COLD invocation, given back when
  // destroyed. Move-only.
  class Claim final {
   public:
    Claim(Claim&& other) noexcept : quotas_(other.quotas_), id_(other.id_) {
      other.quotas_ = nullptr;
    }
    Claim& operator=(Claim&& other) = delete;
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    ~Claim();

   private:
    friend class TenantQuotas;
    Claim(TenantQuotas* quotas, uint64_t id) : quotas_(quotas), id_(id) {}

    TenantQuotas* quotas_;
    uint64_t id_;
  };

  TenantQuotas(Limits limits, RegisteredFunctions registered)
      : registered_(std::move(registered)), limits_(limits) {}
  TenantQuotas(const TenantQuotas&) = delete;
  TenantQuotas& operator=(const TenantQuotas&) = delete;
  // Claims must not outlive the quotas.
  ~TenantQuotas() = default;

  // ClaimFunction()
  //
  // Room for function `name` run as `tenant` with `instances` (its
  // max_instances + spare instances) and its worker. A registered function
  // of the same name (an exited one the new registration replaces) is not
  // counted. kResourceExhausted naming the flag
  // (--max_functions_per_tenant, --max_instances_per_tenant,
  // --max_workers) when over.
  absl::StatusOr<Claim> ClaimFunction(const std::string& name, uid_t tenant,
                                      uint64_t instances)
      ABSL_LOCKS_EXCLUDED(mu_);

  // ClaimColdWorker()
  //
  // Room for one COLD invocation of `tenant` (a worker of its own).
  // kResourceExhausted naming --max_cold_workers_per_tenant or
  // --max_workers when over.
  absl::StatusOr<Claim> ClaimColdWorker(uid_t tenant) ABSL_LOCKS_EXCLUDED(mu_);

  // What `tenant` holds now.
  Usage UsageOf(uid_t tenant) const ABSL_LOCKS_EXCLUDED(mu_);
  // Workers held in all (what --max_workers bounds).
  uint32_t workers() const ABSL_LOCKS_EXCLUDED(mu_);
  // The limits now, and new ones (a config reload): they apply to what is
  // asked from now on; what is held already is not taken back.
  Limits limits() const ABSL_LOCKS_EXCLUDED(mu_);
  void SetLimits(const Limits& limits) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A claim: a function's registration, or a COLD worker.
  struct Pending {
    uid_t tenant = 0;
    uint64_t instances = 0;
    bool cold = false;
  };

  // Use of `tenant` (registered functions other than `except`, and
  // claims), and the workers held in all, into `*workers`.
  Usage UsageLocked(uid_t tenant, const std::string& except,
                    uint32_t* workers) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t AddClaim(Pending pending) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives back claim `id` (Claim's destructor).
  void Drop(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);

  const RegisteredFunctions registered_;
  mutable absl::Mutex mu_;
  Limits limits_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Pending> claims_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_TENANT_QUOTAS_H_
