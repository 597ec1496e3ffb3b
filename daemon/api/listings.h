// Listings: what swiftd shows a caller of its brokered connections,
// services, function workers and tenants' quotas, decided by who calls
// (SO_PEERCRED): root sees every tenant's objects, anyone else only its
// own (issue 10, finding 10: any user saw every tenant's library paths,
// uids, client pids and names). Served on the fast path only, where the
// caller is known; gRPC on the Unix socket cannot tell. Thread-safe.
#ifndef SWIFT_DAEMON_API_LISTINGS_H_
#define SWIFT_DAEMON_API_LISTINGS_H_

#include <cstddef>
#include <cstdint>

#include "common/seqpacket_socket.h"
#include "daemon/api/connect_stats.h"
#include "daemon/broker/broker.h"
#include "daemon/broker/service_registry.h"
#include "daemon/functions/worker_manager.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/swift.pb.h"

namespace swift {

class Listings final {
 public:
  // Every pointer may be null (that subsystem is off) and must outlive
  // the listings. The quotas shown are `services`' (swiftd gives the
  // registry and the broker one BrokerQuotas). `connects` is fed by the
  // broker's on_connected; null: ListConnections carries no
  // connect_latency.
  Listings(const ServiceRegistry* services, const Broker* broker,
           const WorkerManager* workers, const ConnectStats* connects = nullptr)
      : services_(services),
        broker_(broker),
        workers_(workers),
        connects_(connects) {}

  // Whether `caller` sees every tenant's objects: root only. A caller
  // whose uid the kernel did not tell is nobody's superuser.
  static bool SeesAll(const FastPathCaller& caller) { return caller.uid == 0; }

  // Each answers one page: the rows from `offset` on that fit in a fast
  // path message (kPageBytes), and how many rows follow (`remaining`).
  v1::ListServicesResponse Services(const FastPathCaller& caller,
                                    uint32_t offset = 0) const;
  v1::ListConnectionsResponse Connections(const FastPathCaller& caller,
                                          uint32_t offset = 0) const;
  v1::ListWorkersResponse Workers(const FastPathCaller& caller,
                                  uint32_t offset = 0) const;
  // Root: every tenant holding something; others: their own row, always.
  v1::ListTenantsResponse Tenants(const FastPathCaller& caller,
                                  uint32_t offset = 0) const;

  // A page's size at most, leaving room in kMaxSeqpacketMessage for the
  // FastResponse around it.
  static constexpr size_t kPageBytes = kMaxSeqpacketMessage - 4096;

 private:
  const ServiceRegistry* const services_;
  const Broker* const broker_;
  const WorkerManager* const workers_;
  const ConnectStats* const connects_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_LISTINGS_H_
