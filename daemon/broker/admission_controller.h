// AdmissionController: bounds the connection handshakes swiftd runs at
// once, per peer, per tenant and in total, and queues the rest fairly.
//
// Without it a storm of connects overloads the peers (Mooncake measured 240
// concurrent handshakes taking 96 s, with most QPs dead from retry
// timeouts). Waiting requests queue per local client; a freed slot goes to
// the next client in round-robin order whose peer has room, so one busy
// client cannot starve the others. Every request is admitted or refused by
// its deadline: none waits forever. A tenant (a uid) has its own cap below
// the total, so that one tenant's handshakes with hosts that never answer
// cannot take every slot and starve the others (issue 10, finding 5): its
// excess queues behind its own cap while other tenants go ahead. Root is
// exempt from the per-tenant cap (as from every tenant quota).
// Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_ADMISSION_CONTROLLER_H_
#define SWIFT_DAEMON_BROKER_ADMISSION_CONTROLLER_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace swift {

class AdmissionController final {
 public:
  struct Limits {
    int per_peer = 8;       // Handshakes in flight toward one peer.
    int total = 32;         // Handshakes in flight in all.
    int max_queued = 4096;  // Requests waiting; more are refused at once.
    // Handshakes in flight of one tenant other than root
    // (--max_handshakes_per_tenant).
    int per_tenant = 8;
  };

  struct Stats {
    int in_flight = 0;
    int queued = 0;
    uint64_t admitted = 0;
    uint64_t timed_out = 0;   // Deadline passed while queued.
    uint64_t queue_full = 0;  // Refused: max_queued reached.
  };

  // One tenant's handshakes: in flight and waiting.
  struct TenantStats {
    uid_t tenant = 0;
    int in_flight = 0;
    int queued = 0;
  };

  // A granted slot; releasing it (destruction) lets the next request in.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept
        : controller_(std::exchange(other.controller_, nullptr)),
          peer_(std::move(other.peer_)),
          tenant_(other.tenant_) {}
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { Release(); }
    void Release();

   private:
    friend class AdmissionController;
    Ticket(AdmissionController* controller, std::string peer, uid_t tenant)
        : controller_(controller), peer_(std::move(peer)), tenant_(tenant) {}
    AdmissionController* controller_ = nullptr;
    std::string peer_;
    uid_t tenant_ = 0;
  };

  explicit AdmissionController(Limits limits);
  AdmissionController(const AdmissionController&) = delete;
  AdmissionController& operator=(const AdmissionController&) = delete;

  // Admit()
  //
  // Returns a ticket once a handshake toward `peer` may start, queueing
  // behind others as the limits require. `client` identifies the local
  // client for fairness; `tenant` (its uid) is held to `per_tenant`.
  // kDeadlineExceeded when `deadline` passes first; kResourceExhausted
  // when the queue is full. The controller must outlive every ticket.
  absl::StatusOr<Ticket> Admit(const std::string& peer, uint64_t client,
                               uid_t tenant, absl::Time deadline);

  Stats GetStats() const;
  // One tenant's handshakes (zero when it has none).
  TenantStats GetTenantStats(uid_t tenant) const;
  // Every tenant with handshakes in flight or waiting, by uid.
  std::vector<TenantStats> ListTenants() const;
  // The limits now, and new ones (a config reload): they apply to what is
  // asked from now on; what is held already is not taken back.
  Limits limits() const ABSL_LOCKS_EXCLUDED(mu_);
  // Raised limits let queued connects in at once.
  void SetLimits(const Limits& limits) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Waiter {
    std::string peer;
    uint64_t client = 0;
    uid_t tenant = 0;
    bool granted = false;
  };

  void ReleaseSlot(const std::string& peer, uid_t tenant);
  bool HasRoom(const std::string& peer, uid_t tenant) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Grant(Waiter& waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Grants queued waiters while there is room, round-robin over clients.
  void Dispatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveWaiter(const std::shared_ptr<Waiter>& waiter)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops `tenant`'s entry once it has nothing in flight or waiting.
  void ForgetIdleTenant(uid_t tenant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Limits limits_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> in_flight_per_peer_
      ABSL_GUARDED_BY(mu_);
  // Only tenants with handshakes in flight or waiting.
  absl::flat_hash_map<uid_t, TenantStats> tenants_ ABSL_GUARDED_BY(mu_);
  // Per client, its waiting requests in arrival order.
  absl::flat_hash_map<uint64_t, std::deque<std::shared_ptr<Waiter>>> queues_
      ABSL_GUARDED_BY(mu_);
  // Clients with waiting requests, in round-robin order.
  std::list<uint64_t> ring_ ABSL_GUARDED_BY(mu_);
  int queued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t admitted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timed_out_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t queue_full_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_ADMISSION_CONTROLLER_H_
