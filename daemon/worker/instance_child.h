// ServeAsInstance(): the body of a forked instance of swift_worker.
//
// An instance is a child the worker forked with one connection set and one
// end of a socket pair. It arms PR_SET_PDEATHSIG (an instance outlives no
// worker: its QPs are the worker's to recycle), builds its InstanceRuntime
// once, then runs the invocation it was forked for, or, as a spare,
// prefaults the pages its first run will touch and waits for one; it
// answers each InvokeRequest with one InvokeReply on its socket (and, for a
// request that came on a client's direct channel, the client there first:
// channel_answer.h) and waits for the next, until the worker closes the
// socket or kills it.
//
// What a child must never do: touch the worker's Session (another thread
// may have held its locks at fork) or run a destructor of an object it
// inherited (the Qp/Cq/Connection owners would destroy or recycle what the
// worker will recycle). It leaves with _exit().
#ifndef SWIFT_DAEMON_WORKER_INSTANCE_CHILD_H_
#define SWIFT_DAEMON_WORKER_INSTANCE_CHILD_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "common/seqpacket_socket.h"
#include "common/unique_fd.h"
#include "daemon/worker/connection_set_pool.h"
#include "daemon/worker/fork/provider_doorbell.h"
#include "proto/worker.pb.h"
#include "swift/function.h"

namespace swift {

// What every instance of one worker runs with.
struct InstanceSpec {
  swift_function_fn function = nullptr;
  // The device's doorbell, detected once in the worker before any fork.
  ProviderDoorbell doorbell;
  // The worker's pid: a child whose parent is already another exits.
  pid_t worker_pid = 0;
};

// ServeAsInstance()
//
// Runs in the child until the worker lets it go; never returns. `socket` is
// the child's end; `connections` its set; `shared_lkeys` the memory regions
// the worker verified MAP_SHARED; `first` the invocation it was forked for,
// or null for a spare, and `first_channel` the client's channel `first`
// came on, if it did (later requests bring theirs attached).
[[noreturn]] void ServeAsInstance(const InstanceSpec& spec,
                                  SeqpacketSocket socket,
                                  const ConnectionSet& connections,
                                  absl::flat_hash_set<uint32_t> shared_lkeys,
                                  const worker::v1::InvokeRequest* first,
                                  UniqueFd first_channel);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_INSTANCE_CHILD_H_
