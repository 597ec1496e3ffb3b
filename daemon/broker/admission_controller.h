// AdmissionController: bounds the connection handshakes swiftd runs at
// once, per peer and in total, and queues the rest fairly.
//
// Without it a storm of connects overloads the peers (Mooncake measured 240
// concurrent handshakes taking 96 s, with most QPs dead from retry
// timeouts). Waiting requests queue per local client; a freed slot goes to
// the next client in round-robin order whose peer has room, so one busy
// client cannot starve the others. Every request is admitted or refused by
// its deadline: none waits forever. Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_ADMISSION_CONTROLLER_H_
#define SWIFT_DAEMON_BROKER_ADMISSION_CONTROLLER_H_

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>

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
  };

  struct Stats {
    int in_flight = 0;
    int queued = 0;
    uint64_t admitted = 0;
    uint64_t timed_out = 0;   // Deadline passed while queued.
    uint64_t queue_full = 0;  // Refused: max_queued reached.
  };

  // A granted slot; releasing it (destruction) lets the next request in.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept
        : controller_(std::exchange(other.controller_, nullptr)),
          peer_(std::move(other.peer_)) {}
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { Release(); }
    void Release();

   private:
    friend class AdmissionController;
    Ticket(AdmissionController* controller, std::string peer)
        : controller_(controller), peer_(std::move(peer)) {}
    AdmissionController* controller_ = nullptr;
    std::string peer_;
  };

  explicit AdmissionController(Limits limits);
  AdmissionController(const AdmissionController&) = delete;
  AdmissionController& operator=(const AdmissionController&) = delete;

  // Admit()
  //
  // Returns a ticket once a handshake toward `peer` may start, queueing
  // behind others as the limits require. `client` identifies the local
  // client for fairness. kDeadlineExceeded when `deadline` passes first;
  // kResourceExhausted when the queue is full. The controller must
  // outlive every ticket.
  absl::StatusOr<Ticket> Admit(const std::string& peer, uint64_t client,
                               absl::Time deadline);

  Stats GetStats() const;
  const Limits& limits() const { return limits_; }

 private:
  struct Waiter {
    std::string peer;
    uint64_t client = 0;
    bool granted = false;
  };

  void ReleaseSlot(const std::string& peer);
  bool HasRoom(const std::string& peer) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Grant(Waiter& waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Grants queued waiters while there is room, round-robin over clients.
  void Dispatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveWaiter(const std::shared_ptr<Waiter>& waiter)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Limits limits_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> in_flight_per_peer_
      ABSL_GUARDED_BY(mu_);
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
