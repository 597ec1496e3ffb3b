// AdmissionController implementation; see admission_controller.h.
#include "daemon/broker/admission_controller.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace swift {

AdmissionController::Ticket& AdmissionController::Ticket::operator=(
    Ticket&& other) noexcept {
  if (this != &other) {
    Release();
    controller_ = std::exchange(other.controller_, nullptr);
    peer_ = std::move(other.peer_);
  }
  return *this;
}

void AdmissionController::Ticket::Release() {
  if (controller_ != nullptr) {
    std::exchange(controller_, nullptr)->ReleaseSlot(peer_);
  }
}

AdmissionController::AdmissionController(Limits limits) : limits_(limits) {}

bool AdmissionController::HasRoom(const std::string& peer) const {
  if (in_flight_ >= limits_.total) {
    return false;
  }
  auto it = in_flight_per_peer_.find(peer);
  return it == in_flight_per_peer_.end() || it->second < limits_.per_peer;
}

void AdmissionController::Grant(Waiter& waiter) {
  waiter.granted = true;
  ++in_flight_;
  ++in_flight_per_peer_[waiter.peer];
  ++admitted_;
}

absl::StatusOr<AdmissionController::Ticket> AdmissionController::Admit(
    const std::string& peer, uint64_t client, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  // Straight in only when nobody waits: arrivals must not overtake the queue.
  if (queued_ == 0 && HasRoom(peer)) {
    Waiter immediate{peer, client, false};
    Grant(immediate);
    return Ticket(this, peer);
  }
  if (queued_ >= limits_.max_queued) {
    ++queue_full_;
    return absl::ResourceExhaustedError(
        absl::StrCat("too many connects queued (", queued_, "); retry later"));
  }
  auto waiter = std::make_shared<Waiter>(Waiter{peer, client, false});
  auto& queue = queues_[client];
  if (queue.empty()) {
    ring_.push_back(client);
  }
  queue.push_back(waiter);
  ++queued_;
  Dispatch();
  mu_.AwaitWithDeadline(absl::Condition(&waiter->granted), deadline);
  if (!waiter->granted) {
    RemoveWaiter(waiter);
    ++timed_out_;
    return absl::DeadlineExceededError(absl::StrCat(
        "connect to ", peer, " waited past its deadline for a handshake slot (",
        in_flight_, " in flight)"));
  }
  return Ticket(this, peer);
}

void AdmissionController::Dispatch() {
  bool granted_any = true;
  while (granted_any && queued_ > 0 && in_flight_ < limits_.total) {
    granted_any = false;
    // One pass over the ring: each client may get its oldest request that
    // has room; served clients move to the back.
    const size_t clients = ring_.size();
    for (size_t i = 0; i < clients && in_flight_ < limits_.total; ++i) {
      const uint64_t client = ring_.front();
      ring_.pop_front();
      auto& queue = queues_[client];
      auto eligible = std::find_if(queue.begin(), queue.end(),
                                   [this](const std::shared_ptr<Waiter>& w) {
                                     return HasRoom(w->peer);
                                   });
      if (eligible != queue.end()) {
        Grant(**eligible);
        queue.erase(eligible);
        --queued_;
        granted_any = true;
      }
      if (queue.empty()) {
        queues_.erase(client);
      } else {
        ring_.push_back(client);
      }
    }
  }
}

void AdmissionController::RemoveWaiter(const std::shared_ptr<Waiter>& waiter) {
  auto it = queues_.find(waiter->client);
  if (it == queues_.end()) {
    return;
  }
  auto& queue = it->second;
  auto found = std::find(queue.begin(), queue.end(), waiter);
  if (found == queue.end()) {
    return;
  }
  queue.erase(found);
  --queued_;
  if (queue.empty()) {
    queues_.erase(it);
    ring_.remove(waiter->client);
  }
}

void AdmissionController::ReleaseSlot(const std::string& peer) {
  absl::MutexLock lock(&mu_);
  --in_flight_;
  auto it = in_flight_per_peer_.find(peer);
  if (it != in_flight_per_peer_.end() && --it->second == 0) {
    in_flight_per_peer_.erase(it);
  }
  Dispatch();
}

AdmissionController::Stats AdmissionController::GetStats() const {
  absl::MutexLock lock(&mu_);
  Stats stats;
  stats.in_flight = in_flight_;
  stats.queued = queued_;
  stats.admitted = admitted_;
  stats.timed_out = timed_out_;
  stats.queue_full = queue_full_;
  return stats;
}

}  // namespace swift
