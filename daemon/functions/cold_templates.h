// ColdTemplates: swiftd's cold templates, one per tenant identity and
// memory limit, kept ready so that COLD invocations do not rebuild what
// the host already has.
//
// A template is a swift_worker started with --template as the tenant
// (uid, gid) within a memory limit: its runtime loaded, the device open, a
// PD, a registered buffer and QPs in INIT, and no function. A COLD
// invocation asks its tenant's template to fork a child that loads the
// function, connects its QPs and runs it once (daemon/worker/
// cold_instances.h). A template serves one key only, so it never runs
// another tenant's function nor one with another memory limit.
//
// Templates are launched on first use (the caller's `launch`; concurrent
// callers of one key wait for that one launch), expire once idle for
// `idle_timeout` (a thread stops them: the template retires and exits, and
// is reaped), and are replaced when they die (the next Acquire() launches
// a new one). A launch that failed is not retried for
// `retry_after_failure`: meanwhile Acquire() fails at once with its reason,
// and the caller serves the invocation the old way. Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_COLD_TEMPLATES_H_
#define SWIFT_DAEMON_FUNCTIONS_COLD_TEMPLATES_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/functions/worker_process.h"

namespace swift {

class ColdTemplates final {
 public:
  // Whose template: the tenant's resolved uid and gid and the memory limit
  // (RLIMIT_AS, 0 = none) it and its children run within.
  struct Key {
    uid_t uid = 0;
    gid_t gid = 0;
    uint64_t memory_limit_bytes = 0;
    bool operator<(const Key& other) const {
      return std::tie(uid, gid, memory_limit_bytes) <
             std::tie(other.uid, other.gid, other.memory_limit_bytes);
    }
  };

  struct Options {
    // A template nobody used for this long is stopped.
    absl::Duration idle_timeout = absl::Minutes(3);
    // After a failed launch, Acquire() of its key fails at once for this
    // long (each attempt would cost a whole worker start).
    absl::Duration retry_after_failure = absl::Seconds(30);
    // How long a stopped template may take to exit before it is killed.
    absl::Duration stop_grace = absl::Seconds(5);
  };

  // Starts a ready template for a key (WorkerLauncher::LaunchTemplate()).
  using Launch =
      std::function<absl::StatusOr<std::shared_ptr<WorkerProcess>>()>;

  // A template in use: it does not expire while a Lease holds it.
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : owner_(other.owner_), key_(other.key_),
          process_(std::move(other.process_)), launched_(other.launched_) {
      other.owner_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();

    WorkerProcess& process() const { return *process_; }
    // Whether this lease launched its template (the first use of it).
    bool launched() const { return launched_; }

    // Discard(): kills the template (swiftd gave up on it: it stopped
    // answering) and forgets it; the next Acquire() launches another.
    void Discard();

   private:
    friend class ColdTemplates;
    Lease(ColdTemplates* owner, Key key,
          std::shared_ptr<WorkerProcess> process, bool launched)
        : owner_(owner), key_(key), process_(std::move(process)),
          launched_(launched) {}

    ColdTemplates* owner_;
    Key key_;
    std::shared_ptr<WorkerProcess> process_;
    bool launched_ = false;
  };

  // Starts the expiry thread.
  explicit ColdTemplates(Options options);
  ColdTemplates(const ColdTemplates&) = delete;
  ColdTemplates& operator=(const ColdTemplates&) = delete;
  // Shutdown(). Every Lease must be gone before.
  ~ColdTemplates();

  // Acquire()
  //
  // The running template of `key`, launched with `launch` when there is
  // none (or it exited); blocks while another caller launches it.
  // Errors: `launch`'s error (and, for retry_after_failure after it,
  // kUnavailable repeating it), kCancelled after Shutdown().
  absl::StatusOr<Lease> Acquire(const Key& key, const Launch& launch)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The pids of the templates running now, in key order.
  std::vector<pid_t> Pids() const ABSL_LOCKS_EXCLUDED(mu_);

  // Shutdown(): stops the expiry thread and kills and reaps every
  // template (their children die with them). Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::shared_ptr<WorkerProcess> process;
    // Leases held now.
    int in_use = 0;
    bool launching = false;
    absl::Time last_used;
    // The last launch's failure, and until when it is repeated.
    absl::Status failure;
    absl::Time failed_until;
  };

  void Release(const Key& key, const WorkerProcess* process, bool discard)
      ABSL_LOCKS_EXCLUDED(mu_);
  void ExpireLoop() ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  std::map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Declared last: joined before the entries go.
  std::thread expirer_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_COLD_TEMPLATES_H_
