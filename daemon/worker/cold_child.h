// ServeColdInstance(): the body of a child a cold template forked for one
// COLD invocation (cold_instances.h).
//
// The child was forked with the tenant's identity and memory limit (the
// template's, which swiftd spawned as the tenant within the function's
// limit), the template's device, PD and registered buffer, and one
// connection set connected for this invocation. It arms PR_SET_PDEATHSIG
// (it outlives no template: its QPs are the template's to recycle), loads
// the function's library (a library that fails to load is reported with
// FunctionLibrary::Open()'s error, as a fresh cold worker reports it at
// startup), runs the function once on the payload, sends its one reply
// and leaves with _exit(): like an instance (instance_child.h) it never
// touches the template's Session nor runs an inherited destructor.
#ifndef SWIFT_DAEMON_WORKER_COLD_CHILD_H_
#define SWIFT_DAEMON_WORKER_COLD_CHILD_H_

#include <sys/types.h>

#include "absl/container/flat_hash_set.h"
#include "common/seqpacket_socket.h"
#include "daemon/worker/connection_set_pool.h"
#include "daemon/worker/fork/provider_doorbell.h"
#include "proto/worker.pb.h"

namespace swift {

// ServeColdInstance()
//
// Runs `request` (its cold_function names the library) in this child
// over `connections` and answers on `socket`; never returns. `doorbell`:
// the device's, detected in the template before forking; `template_pid`:
// the parent it must still have; `shared_lkeys`: memory regions the
// template verified MAP_SHARED.
[[noreturn]] void ServeColdInstance(const ProviderDoorbell& doorbell,
                                    pid_t template_pid, SeqpacketSocket socket,
                                    const ConnectionSet& connections,
                                    absl::flat_hash_set<uint32_t> shared_lkeys,
                                    const worker::v1::InvokeRequest& request);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_COLD_CHILD_H_
