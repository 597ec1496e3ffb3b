// BrokerQuotas: what each tenant (a uid, as SO_PEERCRED tells) may hold in
// swiftd's broker at once: brokered connections, listening services and
// the pooled endpoints those advertise (issue 10, finding 9: one tenant
// made 5,000 connections, 2,001 services and 2,970,001 pooled endpoints,
// +244 MB of swiftd's memory).
//
// Counting only: the owners (Broker, ServiceRegistry) take a unit before
// they create an object and give it back when it goes, so a quota is never
// overshot, not even by concurrent requests. Root is counted but never
// refused (it is the administrator and can change the flags anyway; the
// fast path and the function quotas exempt it too); every other uid has
// the same quotas. FastPathCaller::kUnknownId is one tenant of its own,
// never root. (The function runtime's quotas are daemon/functions'
// TenantQuotas.)
// Thread-safe; a leaf lock (owners may call it holding their own).
#ifndef SWIFT_DAEMON_BROKER_BROKER_QUOTAS_H_
#define SWIFT_DAEMON_BROKER_BROKER_QUOTAS_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace swift {

// The flags that set the quotas, named in every refusal so that an
// operator knows what to raise.
inline constexpr char kMaxConnectionsPerTenantFlag[] =
    "--max_connections_per_tenant";
inline constexpr char kMaxServicesPerTenantFlag[] = "--max_services_per_tenant";
inline constexpr char kMaxPooledEndpointsPerTenantFlag[] =
    "--max_pooled_endpoints_per_tenant";
inline constexpr char kMaxPooledEndpointsPerServiceFlag[] =
    "--max_pooled_endpoints_per_service";

class BrokerQuotas final {
 public:
  enum class Resource { kConnections, kServices, kPooledEndpoints };

  // Defaults far above what a normal application holds (a service
  // advertises about 8 QPs; libswift's backlog), far below what hurts
  // swiftd (a pooled endpoint costs ~80 bytes, a connection a record and
  // a close message).
  struct Limits {
    int64_t connections = 4096;        // --max_connections_per_tenant
    int64_t services = 128;            // --max_services_per_tenant
    int64_t pooled_endpoints = 16384;  // --max_pooled_endpoints_per_tenant
    // Of one service (--max_pooled_endpoints_per_service); enforced by
    // ServiceRegistry, kept here so that one object holds every quota.
    int64_t pooled_endpoints_per_service = 4096;
  };

  struct Usage {
    uid_t uid = 0;
    int64_t connections = 0;
    int64_t services = 0;
    int64_t pooled_endpoints = 0;
  };

  explicit BrokerQuotas(Limits limits) : limits_(limits) {}
  BrokerQuotas() : BrokerQuotas(Limits()) {}
  BrokerQuotas(const BrokerQuotas&) = delete;
  BrokerQuotas& operator=(const BrokerQuotas&) = delete;

  // Acquire()
  //
  // Takes `count` (>= 0) units of `resource` for `uid`, or none:
  // kResourceExhausted, naming the uid, its use, the quota and its flag,
  // when that would pass the quota (never for root).
  absl::Status Acquire(uid_t uid, Resource resource, int64_t count = 1);

  // Release(): gives back `count` units taken with Acquire().
  void Release(uid_t uid, Resource resource, int64_t count = 1);

  // One tenant's use (zero when it holds nothing).
  Usage Of(uid_t uid) const;
  // Every tenant that holds something, by uid.
  std::vector<Usage> List() const;

  // The limits now, and new ones (a config reload): they apply to what is
  // asked from now on; what is held already is not taken back.
  Limits limits() const ABSL_LOCKS_EXCLUDED(mu_);
  void SetLimits(const Limits& limits) ABSL_LOCKS_EXCLUDED(mu_);

  // The flag that sets `resource`'s quota.
  static const char* FlagOf(Resource resource);

 private:
  static int64_t& CountOf(Usage& usage, Resource resource);
  int64_t LimitOf(Resource resource) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Limits limits_ ABSL_GUARDED_BY(mu_);
  // Only tenants holding something: the map is bounded by live objects.
  absl::flat_hash_map<uid_t, Usage> usage_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_BROKER_QUOTAS_H_
