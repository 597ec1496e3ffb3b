// ContextManager: device contexts swiftd opens ahead of time and hands to
// clients, which import them instead of opening the device (issue 11, the
// cold path; only where the device's provider can import: mlx5, efa).
//
// A shared context (common/verbs/shareable_context.h) is one kernel file
// seen from two processes; whatever either makes in it is reachable from
// the other by handle. So a context goes to one client connection only,
// never to two, and never back into a pool: isolation between tenants,
// and between two clients of one tenant, is that of separate contexts.
//
// Pools: for each device SetPooledDevices() names (open, and probed to
// import), `pool_per_device` contexts are kept open ahead of time by one
// thread at idle priority, so that a hand-out costs a dup() and a send,
// not an ibv_open_device (which on mlx5 allocates UARs and may read all
// of /proc/cpuinfo). A device dropped from the list has its pooled
// contexts closed.
//
// Lifetime: swiftd keeps its copy of each context it handed out until the
// holder's fast-path connection ends (ReleaseAllOf, crash included) or the
// device goes (DeviceRemoved), then closes it; the holder's objects live
// until the holder closes its own copy too. A tenant (the caller's uid)
// holds at most `max_per_tenant` at a time. Thread-safe.
#ifndef SWIFT_DAEMON_CONTEXTS_CONTEXT_MANAGER_H_
#define SWIFT_DAEMON_CONTEXTS_CONTEXT_MANAGER_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"
#include "proto/fast_path.pb.h"

namespace swift {

class ContextManager final {
 public:
  // A context ready to be handed out: verbs::ShareableContext in swiftd
  // (daemon/contexts/verbs_shared_context.h), fakes in host tests.
  class SharedContext {
   public:
    virtual ~SharedContext() = default;
    // A new fd on the context's kernel file, for the holder.
    virtual absl::StatusOr<UniqueFd> DupCommandFd() const = 0;
    virtual uint32_t pd_handle() const = 0;
    // The holder has it: its PD is no longer swiftd's to deallocate.
    virtual void MarkHandedOut() = 0;
  };
  using Opener = std::function<absl::StatusOr<std::unique_ptr<SharedContext>>(
      const std::string& device)>;

  struct Options {
    // Contexts kept open ahead of time per pooled device
    // (--shared_contexts_per_device); 0: each is opened on demand.
    int pool_per_device = 2;
    // The most contexts one tenant holds at a time
    // (--max_shared_contexts_per_tenant).
    int64_t max_per_tenant = 64;
    // Opens a context (with its PD) on `device`. Required.
    Opener open;
    // OK when `device` may be shared now, else the status to answer:
    // kNotFound (no such device), kFailedPrecondition with the probe's
    // reason (its provider cannot import), kUnavailable (removed). Null:
    // every device may.
    std::function<absl::Status(const std::string& device)> check_device;
    // How long the refill waits after a failed open before trying that
    // device again.
    absl::Duration retry_after = absl::Seconds(5);
  };

  // Who holds a context: one fast-path connection of one process.
  struct Holder {
    uint64_t channel_id = 0;
    uid_t uid = 0;
    int64_t pid = 0;
    std::string name;
  };

  // A shared context: the answer, and the fd to send with it (the caller
  // sends it and closes it).
  struct Grant {
    v1::ShareContextResult result;
    UniqueFd fd;
  };

  // Starts the refill thread (idle until SetPooledDevices names a device).
  explicit ContextManager(Options options);
  // Stops the refill thread and closes every context, pooled or held.
  ~ContextManager();
  ContextManager(const ContextManager&) = delete;
  ContextManager& operator=(const ContextManager&) = delete;

  // Share()
  //
  // A context on `call.device()` for `holder` alone: a pooled one when
  // ready, else opened now (this connection waits). Errors:
  // kInvalidArgument without a device; the device check's status;
  // kResourceExhausted naming --max_shared_contexts_per_tenant; the open's
  // or dup's status.
  absl::StatusOr<Grant> Share(const Holder& holder,
                              const v1::ShareContextCall& call);

  // ReleaseAllOf(): closes swiftd's copy of every context held on fast
  // path connection `channel_id` (it ended); returns how many.
  int ReleaseAllOf(uint64_t channel_id);

  // DeviceRemoved(): `device` is gone: swiftd's copies of the contexts
  // held on it and pooled for it are closed (the holders' copies are
  // theirs: their objects went with the device). Returns how many held
  // contexts were closed.
  int DeviceRemoved(const std::string& device);

  // SetPooledDevices(): the devices to keep contexts ready for from now
  // on (open and able to import); pooled contexts of any other device are
  // closed.
  void SetPooledDevices(const std::vector<std::string>& devices);

  // Contexts held per fast-path connection (for the clients listing).
  absl::flat_hash_map<uint64_t, int> CountsByChannel() const;
  int held_count() const;
  int pooled_count() const;
  // Pooled contexts of `device` (tests, listings).
  int pooled_count(const std::string& device) const;

 private:
  struct Held {
    uint64_t id = 0;
    Holder holder;
    std::string device;
    absl::Time since;
    std::unique_ptr<SharedContext> context;
  };
  struct Pool {
    std::deque<std::unique_ptr<SharedContext>> ready;
    // No refill before this (after a failed open).
    absl::Time retry_at = absl::InfinitePast();
    // Whether the last open failed (its error logged once).
    bool failing = false;
  };

  // The refill thread: opens contexts for pools below their target.
  void Refill();
  // A pooled device below target and not waiting to retry, if any.
  std::string DeviceToRefill() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stopping, or a device to refill (the refill thread's wake-up).
  bool RefillWanted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int TenantCount(uid_t uid) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Held> held_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Pool> pools_ ABSL_GUARDED_BY(mu_);
  std::thread refill_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_CONTEXTS_CONTEXT_MANAGER_H_
