// DeviceTable implementation; see device_table.h.
#include "daemon/devices/device_table.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "glog/logging.h"

namespace swift {
namespace {

bool SameGids(const std::vector<verbs::GidInfo>& a,
              const std::vector<verbs::GidInfo>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].index != b[i].index || a[i].gid != b[i].gid ||
        a[i].type != b[i].type || a[i].netdev != b[i].netdev) {
      return false;
    }
  }
  return true;
}

bool SamePorts(const std::vector<verbs::PortInfo>& a,
               const std::vector<verbs::PortInfo>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].port_num != b[i].port_num || a[i].state != b[i].state ||
        a[i].phys_state != b[i].phys_state ||
        a[i].active_mtu_bytes != b[i].active_mtu_bytes ||
        a[i].speed != b[i].speed || a[i].width != b[i].width ||
        a[i].lid != b[i].lid || !SameGids(a[i].gids, b[i].gids)) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::string_view DeviceStateName(DeviceState state) {
  switch (state) {
    case DeviceState::kOpen:
      return "open";
    case DeviceState::kFailed:
      return "failed";
    case DeviceState::kRemoved:
      return "removed";
  }
  return "unknown";
}

DeviceTable::Slot* DeviceTable::FindSlot(const std::string& name) {
  for (Slot& slot : slots_) {
    if (slot.record.name == name) {
      return &slot;
    }
  }
  return nullptr;
}

const DeviceTable::Slot* DeviceTable::FindSlot(const std::string& name) const {
  for (const Slot& slot : slots_) {
    if (slot.record.name == name) {
      return &slot;
    }
  }
  return nullptr;
}

void DeviceTable::Notify(const DeviceChange& change) {
  for (const auto& [id, listener] : listeners_) {
    listener(change);
  }
}

uint64_t DeviceTable::Put(DeviceRecord record,
                          std::shared_ptr<verbs::Context> context) {
  absl::MutexLock changes(&changes_mu_);
  std::shared_ptr<verbs::Context> replaced;
  DeviceChange change;
  {
    absl::MutexLock lock(&mu_);
    record.generation = ++generation_;
    record.changed_at = absl::Now();
    change = {record.name, record.state, record.generation,
              record.state == DeviceState::kOpen
                  ? std::string("opened")
                  : std::string(record.error.message())};
    if (Slot* slot = FindSlot(record.name); slot != nullptr) {
      replaced = std::move(slot->context);
      *slot = Slot{std::move(record), std::move(context)};
    } else {
      slots_.push_back(Slot{std::move(record), std::move(context)});
    }
  }
  Notify(change);
  return change.generation;
}

bool DeviceTable::UpdatePorts(const std::string& name,
                              std::vector<verbs::PortInfo> ports,
                              const std::string& event) {
  absl::MutexLock changes(&changes_mu_);
  DeviceChange change;
  {
    absl::MutexLock lock(&mu_);
    Slot* slot = FindSlot(name);
    if (slot == nullptr || slot->record.state != DeviceState::kOpen ||
        SamePorts(slot->record.info.ports, ports)) {
      return false;
    }
    slot->record.info.ports = std::move(ports);
    slot->record.last_event = event;
    slot->record.generation = ++generation_;
    slot->record.changed_at = absl::Now();
    change = {name, DeviceState::kOpen, generation_, event};
  }
  Notify(change);
  return true;
}

bool DeviceTable::MarkRemoved(const std::string& name,
                              const absl::Status& reason,
                              const std::string& event) {
  absl::MutexLock changes(&changes_mu_);
  std::shared_ptr<verbs::Context> context;
  DeviceChange change;
  {
    absl::MutexLock lock(&mu_);
    Slot* slot = FindSlot(name);
    if (slot == nullptr || slot->record.state == DeviceState::kRemoved) {
      return false;
    }
    context = std::move(slot->context);
    slot->record.state = DeviceState::kRemoved;
    slot->record.error = reason;
    slot->record.last_event = event;
    slot->record.generation = ++generation_;
    slot->record.changed_at = absl::Now();
    change = {name, DeviceState::kRemoved, generation_,
              std::string(reason.message())};
    for (verbs::PortInfo& port : slot->record.info.ports) {
      port.active = false;
    }
  }
  // Listeners first: they drop what they built on the device while the
  // context is still open, then the table lets go of it.
  Notify(change);
  if (context != nullptr && context.use_count() > 1) {
    LOG(WARNING) << name << " was removed but " << context.use_count() - 1
                 << " holder(s) still use its context: the kernel closes the "
                    "device when the last one lets go";
  }
  return true;
}

absl::StatusOr<std::shared_ptr<verbs::Context>> DeviceTable::Acquire(
    const std::string& name) const {
  absl::MutexLock lock(&mu_);
  const Slot* slot = FindSlot(name);
  if (slot == nullptr) {
    std::vector<std::string> names;
    for (const Slot& known : slots_) {
      names.push_back(known.record.name);
    }
    return absl::NotFoundError(
        absl::StrCat("swiftd holds no RDMA device named '", name, "' (it has: ",
                     names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  if (slot->record.state != DeviceState::kOpen) {
    return absl::UnavailableError(absl::StrCat(
        "RDMA device ", name, " is ", DeviceStateName(slot->record.state), ": ",
        slot->record.error.message()));
  }
  return slot->context;
}

std::vector<DeviceRecord> DeviceTable::Snapshot(uint64_t* generation) const {
  absl::MutexLock lock(&mu_);
  std::vector<DeviceRecord> records;
  records.reserve(slots_.size());
  for (const Slot& slot : slots_) {
    records.push_back(slot.record);
  }
  if (generation != nullptr) {
    *generation = generation_;
  }
  return records;
}

std::optional<DeviceRecord> DeviceTable::Find(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  const Slot* slot = FindSlot(name);
  if (slot == nullptr) {
    return std::nullopt;
  }
  return slot->record;
}

uint64_t DeviceTable::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

int DeviceTable::Subscribe(Listener listener) {
  absl::MutexLock changes(&changes_mu_);
  const int id = next_listener_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void DeviceTable::Unsubscribe(int id) {
  absl::MutexLock changes(&changes_mu_);
  listeners_.erase(id);
}

}  // namespace swift
