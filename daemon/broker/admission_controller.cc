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
    tenant_ = other.tenant_;
  }
  return *this;
}

void AdmissionController::Ticket::Release() {
  if (controller_ != nullptr) {
    std::exchange(controller_, nullptr)->ReleaseSlot(peer_, tenant_);
  }
}

AdmissionController::AdmissionController(Limits limits) : limits_(limits) {}

AdmissionController::Limits AdmissionController::limits() const {
  absl::MutexLock lock(&mu_);
  return limits_;
}

void AdmissionController::SetLimits(const Limits& limits) {
  absl::MutexLock lock(&mu_);
  limits_ = limits;
  Dispatch();
}

bool AdmissionController::HasRoom(const std::string& peer,
                                  uid_t tenant) const {
  if (in_flight_ >= limits_.total) {
    return false;
  }
  if (auto it = tenants_.find(tenant);
      tenant != 0 && it != tenants_.end() &&
      it->second.in_flight >= limits_.per_tenant) {
    return false;
  }
  auto it = in_flight_per_peer_.find(peer);
  return it == in_flight_per_peer_.end() || it->second < limits_.per_peer;
}

void AdmissionController::Grant(Waiter& waiter) {
  waiter.granted = true;
  ++in_flight_;
  ++in_flight_per_peer_[waiter.peer];
  TenantStats& tenant = tenants_[waiter.tenant];
  tenant.tenant = waiter.tenant;
  ++tenant.in_flight;
  ++admitted_;
}

absl::StatusOr<AdmissionController::Ticket> AdmissionController::Admit(
    const std::string& peer, uint64_t client, uid_t tenant,
    absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  // Straight in only when nobody waits: arrivals must not overtake the queue.
  if (queued_ == 0 && HasRoom(peer, tenant)) {
    Waiter immediate{peer, client, tenant, false};
    Grant(immediate);
    return Ticket(this, peer, tenant);
  }
  if (queued_ >= limits_.max_queued) {
    ++queue_full_;
    return absl::ResourceExhaustedError(
        absl::StrCat("too many connects queued (", queued_, "); retry later"));
  }
  auto waiter =
      std::make_shared<Waiter>(Waiter{peer, client, tenant, false});
  auto& queue = queues_[client];
  if (queue.empty()) {
    ring_.push_back(client);
  }
  queue.push_back(waiter);
  ++queued_;
  {
    TenantStats& stats = tenants_[tenant];
    stats.tenant = tenant;
    ++stats.queued;
  }
  Dispatch();
  mu_.AwaitWithDeadline(absl::Condition(&waiter->granted), deadline);
  // Granted or not, it no longer waits.
  TenantStats& stats = tenants_[tenant];
  --stats.queued;
  if (!waiter->granted) {
    RemoveWaiter(waiter);
    ++timed_out_;
    const int tenant_in_flight = stats.in_flight;
    ForgetIdleTenant(tenant);
    return absl::DeadlineExceededError(absl::StrCat(
        "connect to ", peer, " waited past its deadline for a handshake slot (",
        in_flight_, " in flight, ", tenant_in_flight, " of them uid ", tenant,
        "'s, whose cap is ", limits_.per_tenant,
        ": --max_handshakes_per_tenant)"));
  }
  return Ticket(this, peer, tenant);
}

void AdmissionController::ForgetIdleTenant(uid_t tenant) {
  auto it = tenants_.find(tenant);
  if (it != tenants_.end() && it->second.in_flight == 0 &&
      it->second.queued == 0) {
    tenants_.erase(it);
  }
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
                                     return HasRoom(w->peer, w->tenant);
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

void AdmissionController::ReleaseSlot(const std::string& peer,
                                      uid_t tenant) {
  absl::MutexLock lock(&mu_);
  --in_flight_;
  auto it = in_flight_per_peer_.find(peer);
  if (it != in_flight_per_peer_.end() && --it->second == 0) {
    in_flight_per_peer_.erase(it);
  }
  if (auto found = tenants_.find(tenant); found != tenants_.end()) {
    --found->second.in_flight;
    ForgetIdleTenant(tenant);
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

AdmissionController::TenantStats AdmissionController::GetTenantStats(
    uid_t tenant) const {
  absl::MutexLock lock(&mu_);
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? TenantStats{tenant} : it->second;
}

std::vector<AdmissionController::TenantStats>
AdmissionController::ListTenants() const {
  std::vector<TenantStats> list;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [tenant, stats] : tenants_) {
      list.push_back(stats);
    }
  }
  std::sort(list.begin(), list.end(),
            [](const TenantStats& a, const TenantStats& b) {
              return a.tenant < b.tenant;
            });
  return list;
}

}  // namespace swift
