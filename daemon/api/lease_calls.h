// LeaseCalls: the fast path's calls that hand a client resources tied to
// its connection: memory leases (lease, release_lease, check_lease,
// list_leases) and shared device contexts (share_context), and the
// attached-clients listing (list_clients); checked once and handed to
// daemon/leases' LeaseManager, daemon/contexts' ContextManager and the
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
#include "daemon/contexts/context_manager.h"
#include "daemon/leases/lease_manager.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/fast_path.pb.h"

namespace swift {

class LeaseCalls final {
 public:
  // Any may be null (no leases: lease calls are kUnimplemented; no
  // registry: the clients listing is empty; no contexts: share_context is
  // kUnimplemented). All must outlive this.
  LeaseCalls(LeaseManager* leases, ClientRegistry* clients,
             ContextManager* contexts = nullptr)
      : leases_(leases), clients_(clients), contexts_(contexts) {}
  LeaseCalls(const LeaseCalls&) = delete;
  LeaseCalls& operator=(const LeaseCalls&) = delete;

  // Whether `request` is one of the calls answered here.
  static bool Handles(const v1::FastRequest& request);

  // Handle()
  //
  // Answers a call Handles() accepts. A granted lease's answer carries
  // the lease's memfd, a shared context's its command fd, moved into `fds`
  // (the transport sends and closes it). Errors are in the answer
  // (proto/wire_status.h): those of LeaseManager and ContextManager,
  // kPermissionDenied without the caller's uid.
  v1::FastResponse Handle(const FastPathCaller& caller,
                          const v1::FastRequest& request,
                          std::vector<UniqueFd>* fds);

  // A CALLS or SERVICE connection was greeted: recorded as attached.
  void Attached(const FastPathCaller& caller, v1::FastHello::Channel kind);

  // It ended: forgotten, every lease it held reclaimed and swiftd's copy
  // of every context it was given closed.
  void Detached(const FastPathCaller& caller);

  // The attached connections `caller` may see, from `offset` on.
  v1::ListClientsResponse Clients(const FastPathCaller& caller,
                                  uint32_t offset) const;

 private:
  v1::FastResponse ShareContext(const FastPathCaller& caller,
                                const v1::ShareContextCall& call,
                                std::vector<UniqueFd>* fds);

  LeaseManager* const leases_;
  ClientRegistry* const clients_;
  ContextManager* const contexts_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_LEASE_CALLS_H_
