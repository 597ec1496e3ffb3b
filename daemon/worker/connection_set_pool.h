// ConnectionSetPool: the worker's connected QP sets, prepared ahead of the
// instances that take them and closed after the instances that used them.
//
// A connection set is one brokered Connection per peer the function
// declared; every instance owns one while it lives. Connecting a set costs
// a broker round trip per peer, so the pool keeps `prepared` sets ready,
// and a maintenance thread (started by StartMaintaining()) refills them
// and closes retired sets (recycling their QPs: back to the session's
// pool, the peer told), all off the request path. Each connection's memory
// region is checked to be MAP_SHARED once, here, so that instances need
// not read /proc/self/maps (milliseconds under emulation) on their first
// post (SharedLkeys()).
//
// Lifetime: the Session must outlive the pool. The destructor stops and
// joins the maintenance thread first (it uses the session and the sets),
// then closes the prepared and retired sets. Thread-safe.
#ifndef SWIFT_DAEMON_WORKER_CONNECTION_SET_POOL_H_
#define SWIFT_DAEMON_WORKER_CONNECTION_SET_POOL_H_

#include <infiniband/verbs.h>

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "swift/session.h"

namespace swift {

// One connection per target, in the targets' order.
using ConnectionSet = std::vector<std::unique_ptr<Connection>>;

class ConnectionSetPool final {
 public:
  // The peers each set connects to: (host, service).
  using Targets = std::vector<std::pair<std::string, std::string>>;

  // `session` (not owned) must outlive the pool. `prepared`: the sets kept
  // ready once StartMaintaining() runs.
  ConnectionSetPool(Session* session, Targets targets, int prepared);
  ConnectionSetPool(const ConnectionSetPool&) = delete;
  ConnectionSetPool& operator=(const ConnectionSetPool&) = delete;
  ~ConnectionSetPool();

  // Fill()
  //
  // Connects sets now, on the caller's thread, until `sets` are prepared.
  // The first error (naming the peer) stops it.
  absl::Status Fill(int sets);

  // StartMaintaining()
  //
  // Starts the maintenance thread: it tops the prepared sets up to
  // `prepared` (retrying a failed connect every second) and closes retired
  // sets. Called once.
  void StartMaintaining();

  // Take()
  //
  // The oldest prepared set; when none is ready, a set connected now if
  // `connect_if_none`, else kUnavailable. The set is the caller's until it
  // gives it back (PutBack) or retires it (Retire).
  absl::StatusOr<ConnectionSet> Take(bool connect_if_none);

  // PutBack(): `set`, taken but unused, is the next one Take() returns.
  void PutBack(ConnectionSet set);

  // Retire(): `set`'s user is gone; the maintenance thread closes it.
  void Retire(ConnectionSet set);

  // The device context of the first prepared set's first QP, or null.
  ibv_context* FirstContext();

  // Memory regions (lkeys) verified MAP_SHARED so far.
  absl::flat_hash_set<uint32_t> SharedLkeys();

  int prepared_count();

 private:
  absl::StatusOr<ConnectionSet> Connect();
  void MaintainLoop();

  Session* const session_;
  const Targets targets_;
  const int prepared_target_;

  absl::Mutex mu_;
  std::deque<ConnectionSet> prepared_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<uint32_t> shared_lkeys_ ABSL_GUARDED_BY(mu_);
  std::vector<ConnectionSet> retired_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Declared last: joined in the destructor before anything it uses goes.
  std::thread maintainer_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_CONNECTION_SET_POOL_H_
