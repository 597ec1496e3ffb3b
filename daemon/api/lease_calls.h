// LeaseCalls: the fast path's memory-lease calls (lease, release_lease,
// check_lease, list_leases) and the attached-clients listing (list_clients),
// checked once and handed to daemon/leases' LeaseManager and the
// ClientRegistry. FastPathService delegates these calls here.
//
// Who calls decides everything (SO_PEERCRED): a lease is its caller's
// tenant's (uid) and its connection's (reclaimed when that connection
// ends, crash included); a caller whose uid the kernel did not tell gets
// kPermissionDenied; listings show root everything and anyone else its
// own rows. Thread-safe.
#ifndef SWIFT_DAEMON_API_LEASE_CALLS_H_
#define SWIFT_DAEMON_API_LEASE_CALLS_H_

#include <vector>

#include "common/unique_fd.h"
#include "daemon/api/client_registry.h"
#include "daemon/leases/lease_manager.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/fast_path.pb.h"

namespace swift {

class LeaseCalls final {
 public:
  // Either may be null (no leases: lease calls are kUnimplemented; no
  // registry: the clients listing is empty). Both must outlive this.
  LeaseCalls(LeaseManager* leases, ClientRegistry* clients)
      : leases_(leases), clients_(clients) {}
  LeaseCalls(const LeaseCalls&) = delete;
  LeaseCalls& operator=(const LeaseCalls&) = delete;

  // Whether `request` is one of the calls answered here.
  static bool Handles(const v1::FastRequest& request);

  // Handle()
  //
  // Answers a call Handles() accepts. A granted lease's answer carries
  // the lease's memfd, moved into `fds` (the transport sends and closes
  // it). Errors are in the answer (proto/wire_status.h): those of
  // LeaseManager, kPermissionDenied without the caller's uid.
  v1::FastResponse Handle(const FastPathCaller& caller,
                          const v1::FastRequest& request,
                          std::vector<UniqueFd>* fds);

  // A CALLS or SERVICE connection was greeted: recorded as attached.
  void Attached(const FastPathCaller& caller, v1::FastHello::Channel kind);

  // It ended: forgotten, and every lease it held reclaimed.
  void Detached(const FastPathCaller& caller);

  // The attached connections `caller` may see, from `offset` on.
  v1::ListClientsResponse Clients(const FastPathCaller& caller,
                                  uint32_t offset) const;

 private:
  LeaseManager* const leases_;
  ClientRegistry* const clients_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_LEASE_CALLS_H_
