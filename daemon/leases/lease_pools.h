// LeasePools: per tenant, memfd regions populated ahead of time, ready to
// become leases (daemon/leases/lease_manager.h).
//
// A tenant's pool appears with its first Take() (that first lease is
// populated on demand) and is then refilled in the background, by one
// thread at idle priority (common/idle_priority.h), up to `regions_per_tenant`
// regions of `region_bytes`, as far as the tenant's and the host's quotas allow
// (LeaseQuotas::ReservePooled: a pooled region counts as the tenant's bytes). A
// pool unused for `idle_timeout` whose tenant holds no leases is dropped, its
// memory freed. Pools are per tenant, never shared: a region is a whole memfd
// (memfd_region.h) handed to exactly one lease.
//
// Thread-safe. The destructor stops and joins the refill thread and frees
// every pooled region.
#ifndef SWIFT_DAEMON_LEASES_LEASE_POOLS_H_
#define SWIFT_DAEMON_LEASES_LEASE_POOLS_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/leases/lease_quotas.h"
#include "daemon/leases/memfd_region.h"

namespace swift {

class LeasePools final {
 public:
  struct Options {
    // The size of a pooled region (--lease_pool_region_bytes): leases up
    // to this size come from the pool; larger ones are populated on
    // demand.
    uint64_t region_bytes = uint64_t{4} << 20;
    // Regions kept ready per tenant (--lease_pool_regions_per_tenant);
    // 0: no pools, every lease is populated on demand.
    int regions_per_tenant = 2;
    // Try huge pages (--lease_hugepages).
    bool try_hugepages = true;
    // A pool unused this long, of a tenant holding no leases, is dropped.
    absl::Duration idle_timeout = absl::Minutes(5);
  };

  struct PoolStats {
    uid_t uid = 0;
    int ready = 0;
    uint64_t ready_bytes = 0;
    // Whether its last region got huge pages.
    bool hugepage = false;
  };

  // `quotas` must outlive the pools. Starts the refill thread.
  LeasePools(Options options, LeaseQuotas* quotas);
  LeasePools(const LeasePools&) = delete;
  LeasePools& operator=(const LeasePools&) = delete;
  ~LeasePools();

  // Take()
  //
  // A ready region of `uid`'s pool (its bytes still counted as pooled:
  // the caller converts or releases them with LeaseQuotas), or nullopt
  // when the pool is empty or `bytes` is over region_bytes. Creates the
  // tenant's pool if it has none, marks it used, and wakes the refill
  // thread. Never blocks on populating.
  std::optional<MemfdRegion> Take(uid_t uid, uint64_t bytes);

  // A tenant's leases changed (`holds_leases`: whether it holds any now);
  // a pool of a tenant holding leases is never dropped as idle.
  void NoteHolding(uid_t uid, bool holds_leases);

  // Wakes the refill thread (e.g. after quota was released).
  void Wake();

  std::vector<PoolStats> Stats() const;
  // Bytes populated by the refill thread and the time it took, over the
  // pools' life (the cost per MiB swiftd pays ahead of time).
  uint64_t populated_bytes() const;
  absl::Duration populate_time() const;
  const Options& options() const { return options_; }

 private:
  struct Pool {
    std::deque<MemfdRegion> ready;
    absl::Time last_used;
    bool holds_leases = false;
    bool hugepage = false;
  };

  void RefillLoop();
  // A tenant whose pool wants a region and whose quota has room for it
  // (reserved), or nullopt. Drops idle pools on the way.
  std::optional<uid_t> NextToRefill() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  LeaseQuotas* const quotas_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uid_t, Pool> pools_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t populated_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration populate_time_ ABSL_GUARDED_BY(mu_);
  // Last: started after everything it reads exists.
  std::thread refill_thread_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_LEASES_LEASE_POOLS_H_
