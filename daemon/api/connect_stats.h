// ConnectStats: what the Control API lists of how long brokered connects
// took (ListConnectionsResponse.connect_latency): a latency histogram
// (daemon/functions/latency_histogram.h) of the connects that succeeded,
// for swiftd as a whole and per tenant (the uid that connected), since
// swiftd started. Fed where the broker reports each connect
// (Broker::Options::on_connected), whether or not metrics are on.
//
// Memory is bounded: a fixed size per tenant, at most kMaxTenants of them
// (beyond that a new tenant's connects count in the total only).
//
// Thread-safe.
#ifndef SWIFT_DAEMON_API_CONNECT_STATS_H_
#define SWIFT_DAEMON_API_CONNECT_STATS_H_

#include <sys/types.h>

#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/functions/latency_histogram.h"
#include "proto/swift.pb.h"

namespace swift {

class ConnectStats final {
 public:
  static constexpr size_t kMaxTenants = 4096;

  ConnectStats() = default;
  ConnectStats(const ConnectStats&) = delete;
  ConnectStats& operator=(const ConnectStats&) = delete;

  // Record(): a connect of tenant `uid` that succeeded after `latency`.
  void Record(uid_t uid, absl::Duration latency);

  // Every tenant's connects, and one tenant's (empty, with the bounds,
  // before its first).
  v1::LatencyHistogram All() const;
  v1::LatencyHistogram Of(uid_t uid) const;

 private:
  mutable absl::Mutex mu_;
  LatencyHistogram all_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uid_t, LatencyHistogram> tenants_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_CONNECT_STATS_H_
