// LeaseManager: swiftd's memory leases (issue 11, the cold path): a
// process asks on the fast path for memory, gets a memfd populated ahead
// of time (so that its mmap and ibv_reg_mr are cheap), and holds it until
// it releases it or its fast path connection closes (crash included), when
// swiftd reclaims it.
//
// Isolation: each lease is a memfd of its own, from its tenant's pool or
// populated on demand, trimmed and sealed (memfd_region.h). An fd reaches
// only that memfd, so a holder sees no other lease's memory, neither
// another tenant's nor another client's of its own tenant; a released
// memfd is closed, never reused, so a new lease starts zeroed. A tenant is
// the caller's uid (SO_PEERCRED); listings and releases are per tenant
// (root: all), and a lease id another tenant holds is NOT_FOUND, as if it
// did not exist.
//
// Lifetime: swiftd keeps one fd per lease and closes it at reclaim; the
// holder's fd and mappings keep the memory until they go (the kernel frees
// it with the last reference). Thread-safe.
#ifndef SWIFT_DAEMON_LEASES_LEASE_MANAGER_H_
#define SWIFT_DAEMON_LEASES_LEASE_MANAGER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"
#include "daemon/leases/lease_pools.h"
#include "daemon/leases/lease_quotas.h"
#include "daemon/leases/memfd_region.h"
#include "proto/fast_path.pb.h"

namespace swift {

class LeaseManager final {
 public:
  struct Options {
    LeaseQuotas::Limits quotas;
    LeasePools::Options pools;
    // Checks a LeaseCall's device name (non-empty): OK when swiftd holds
    // it, else the status to answer (kNotFound). Null: any name is taken.
    std::function<absl::Status(const std::string& device)> check_device;
  };

  // Who holds a lease: one fast path connection of one process.
  struct Holder {
    uint64_t channel_id = 0;
    uid_t uid = 0;
    int64_t pid = 0;
    std::string name;
  };

  // A granted lease: the answer, and a new fd for the holder (the
  // caller sends it and closes it).
  struct Grant {
    v1::LeaseResult result;
    UniqueFd fd;
  };

  explicit LeaseManager(Options options);
  LeaseManager(const LeaseManager&) = delete;
  LeaseManager& operator=(const LeaseManager&) = delete;

  // Lease()
  //
  // A lease of `call.bytes()` (rounded up to the page, or to the huge page
  // when it got huge pages) for `holder`'s tenant: from the tenant's pool
  // when one is ready and large enough, else populated now. Errors:
  // kInvalidArgument for 0 bytes; the device check's status;
  // kResourceExhausted naming the quota's flag (LeaseQuotas), or when the
  // memory cannot be had; the memfd calls' errno status. May block while
  // populating (only this connection).
  absl::StatusOr<Grant> Lease(const Holder& holder, const v1::LeaseCall& call);

  // Release()
  //
  // Ends lease `lease_id` and returns its size. kNotFound when no lease
  // has that id or it is another tenant's (root may release any).
  absl::StatusOr<uint64_t> Release(uid_t caller_uid, uint64_t lease_id);

  // Check()
  //
  // Whether lease `lease_id` is still good; returns its device. kNotFound
  // as Release(); kFailedPrecondition, naming the device and why, once
  // DeviceRemoved() marked it.
  absl::StatusOr<std::string> Check(uid_t caller_uid, uint64_t lease_id) const;

  // DeviceRemoved()
  //
  // `device` has gone from the host (`reason`, the device cache's): the
  // leases taken for it are marked, for Check() and List(). They still
  // count against the quotas until released (their memory stays mapped in
  // the holders). Returns how many were marked.
  int DeviceRemoved(const std::string& device, const std::string& reason);

  // ReleaseAllOf(): reclaims every lease held on fast path connection
  // `channel_id` (it closed); returns how many.
  int ReleaseAllOf(uint64_t channel_id);

  // List()
  //
  // The leases `caller_uid` may see (root: all; else its tenant's),
  // ordered by id, with the totals, pools and quotas; rows only from
  // `offset` on (the caller pages them).
  v1::ListLeasesResponse List(uid_t caller_uid, uint32_t offset = 0) const;

  // What connection `channel_id` holds: leases and bytes.
  struct Holding {
    int leases = 0;
    uint64_t bytes = 0;
  };
  absl::flat_hash_map<uint64_t, Holding> HoldingsByChannel() const;

  int lease_count() const;
  uint64_t leased_bytes() const;
  const LeaseQuotas& quotas() const { return quotas_; }
  // New quotas (a config reload), for the leases asked from now on.
  void SetQuotaLimits(const LeaseQuotas::Limits& limits) {
    quotas_.SetLimits(limits);
  }
  const LeasePools& pools() const { return pools_; }

 private:
  struct Held {
    uint64_t id = 0;
    Holder holder;
    MemfdRegion region;
    absl::Time since;
    std::string device;
    // Why `device` is gone; empty while it is there.
    std::string device_error;
  };

  // Ends `lease` (taken out of leases_): counts and pools told.
  void Reclaim(const Held& lease);

  const Options options_;
  // Before pools_: the pools count against the quotas.
  LeaseQuotas quotas_;
  LeasePools pools_;

  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Held>> leases_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_LEASES_LEASE_MANAGER_H_
