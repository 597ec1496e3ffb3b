// DirectoryCache implementation; see directory_cache.h.
#include "daemon/directory/directory_cache.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/directory/directory_url.h"
#include "daemon/directory/host_record_json.h"
#include "glog/logging.h"
#include "proto/directory.pb.h"

namespace swift {

DirectoryCache::DirectoryCache(std::string hosts_prefix, size_t max_departed)
    : hosts_prefix_(std::move(hosts_prefix)), max_departed_(max_departed) {}

absl::Status DirectoryCache::Decode(const EtcdKeyValue& record, absl::Time now,
                                    DirectoryHost* host) const {
  if (!absl::StartsWith(record.key, hosts_prefix_)) {
    return absl::InvalidArgumentError("key outside the hosts folder");
  }
  const std::string name = record.key.substr(hosts_prefix_.size());
  if (!IsValidDirectoryHostName(name)) {
    return absl::InvalidArgumentError("the key's host name is not valid");
  }
  absl::StatusOr<directory::v1::HostRecord> decoded =
      HostRecordFromJson(record.value);
  if (!decoded.ok()) return decoded.status();
  const directory::v1::HostRecord& parsed = *decoded;
  if (parsed.host() != name) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the record names host '", parsed.host(), "', its key '", name, "'"));
  }
  if (parsed.peer_address().empty() || parsed.incarnation() == 0) {
    return absl::InvalidArgumentError(
        "the record has no peer address or no incarnation");
  }
  host->host = name;
  host->peer_address = parsed.peer_address();
  host->link_port = parsed.link_port();
  host->incarnation = parsed.incarnation();
  host->devices.clear();
  for (const auto& device : parsed.devices()) {
    host->devices.push_back({device.name(), device.gid()});
  }
  host->services.assign(parsed.services().begin(), parsed.services().end());
  std::sort(host->services.begin(), host->services.end());
  host->services.erase(
      std::unique(host->services.begin(), host->services.end()),
      host->services.end());
  host->started_unix_ms = parsed.started_unix_ms();
  host->mod_revision = record.mod_revision;
  host->updated = now;
  return absl::OkStatus();
}

namespace {

bool NameBefore(const DirectoryHost* host, const std::string& name) {
  return host->host < name;
}

}  // namespace

void DirectoryCache::Index(const DirectoryHost* host) {
  for (const std::string& service : host->services) {
    std::vector<const DirectoryHost*>& offering = by_service_[service];
    offering.insert(std::lower_bound(offering.begin(), offering.end(),
                                     host->host, NameBefore),
                    host);
  }
}

void DirectoryCache::Unindex(const DirectoryHost* host) {
  for (const std::string& service : host->services) {
    auto it = by_service_.find(service);
    if (it == by_service_.end()) continue;
    std::vector<const DirectoryHost*>& offering = it->second;
    auto at = std::lower_bound(offering.begin(), offering.end(), host->host,
                               NameBefore);
    if (at != offering.end() && *at == host) offering.erase(at);
    if (offering.empty()) by_service_.erase(it);
  }
}

void DirectoryCache::ForgetDeparture(const std::string& host) {
  departed_.erase(std::remove_if(departed_.begin(), departed_.end(),
                                 [&](const DirectoryDeparture& d) {
                                   return d.host == host;
                                 }),
                  departed_.end());
}

void DirectoryCache::Depart(const DirectoryHost& host, absl::Time now,
                            const std::string& reason) {
  // One entry per host: a host that left twice is told by its last leave.
  ForgetDeparture(host.host);
  departed_.push_back(
      {host.host, host.peer_address, host.services, now, reason});
  while (departed_.size() > max_departed_) departed_.pop_front();
}

void DirectoryCache::Refuse(const std::string& key, const absl::Status& why) {
  ++bad_records_;
  last_bad_record_ = absl::StrCat(key, ": ", why.message());
  LOG_EVERY_N(WARNING, 100) << "directory: refused record " << last_bad_record_
                            << " (" << bad_records_ << " refused so far)";
}

std::optional<DirectoryChange> DirectoryCache::Put(const EtcdKeyValue& record,
                                                   absl::Time now) {
  DirectoryHost host;
  if (absl::Status decoded = Decode(record, now, &host); !decoded.ok()) {
    Refuse(record.key, decoded);
    return std::nullopt;
  }
  DirectoryChange change;
  change.host = host.host;
  change.peer_address = host.peer_address;
  change.new_incarnation = host.incarnation;
  auto it = hosts_.find(host.host);
  if (it == hosts_.end()) {
    change.kind = DirectoryChange::Kind::kAdded;
    ForgetDeparture(host.host);
  } else {
    change.old_incarnation = it->second.incarnation;
    if (it->second.incarnation != host.incarnation ||
        it->second.peer_address != host.peer_address) {
      change.kind = DirectoryChange::Kind::kRestarted;
      change.reason =
          absl::StrCat("host ", host.host, "'s swiftd restarted (incarnation ",
                       it->second.incarnation, " -> ", host.incarnation, ")");
    } else {
      change.kind = DirectoryChange::Kind::kUpdated;
    }
    Unindex(&it->second);
    it->second = std::move(host);
    Index(&it->second);
    return change;
  }
  auto added = hosts_.emplace(change.host, std::move(host)).first;
  Index(&added->second);
  return change;
}

std::optional<DirectoryChange> DirectoryCache::Remove(
    const std::string& key, absl::Time now, const std::string& reason) {
  if (!absl::StartsWith(key, hosts_prefix_)) return std::nullopt;
  auto it = hosts_.find(key.substr(hosts_prefix_.size()));
  if (it == hosts_.end()) return std::nullopt;
  DirectoryChange change;
  change.kind = DirectoryChange::Kind::kRemoved;
  change.host = it->second.host;
  change.peer_address = it->second.peer_address;
  change.old_incarnation = it->second.incarnation;
  change.reason = reason;
  Depart(it->second, now, reason);
  Unindex(&it->second);
  hosts_.erase(it);
  return change;
}

std::vector<DirectoryChange> DirectoryCache::Replace(
    const std::vector<EtcdKeyValue>& records, absl::Time now) {
  std::vector<DirectoryChange> changes;
  std::set<std::string> seen;
  for (const EtcdKeyValue& record : records) {
    std::optional<DirectoryChange> change = Put(record, now);
    if (!change.has_value()) continue;
    seen.insert(change->host);
    // A snapshot re-reads every record: an unchanged one is no news.
    if (change->kind == DirectoryChange::Kind::kUpdated) continue;
    changes.push_back(std::move(*change));
  }
  std::vector<std::string> gone;
  for (const auto& [name, host] : hosts_) {
    if (seen.count(name) == 0) gone.push_back(host.host);
  }
  for (const std::string& name : gone) {
    if (auto change =
            Remove(hosts_prefix_ + name, now,
                   "its record left the directory while this swiftd was "
                   "not watching (its swiftd stopped or its lease expired)")) {
      changes.push_back(std::move(*change));
    }
  }
  return changes;
}

const DirectoryHost* DirectoryCache::Find(const std::string& host) const {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? nullptr : &it->second;
}

const std::vector<const DirectoryHost*>& DirectoryCache::Offering(
    const std::string& service) const {
  static const std::vector<const DirectoryHost*>* const kNone =
      new std::vector<const DirectoryHost*>();
  auto it = by_service_.find(service);
  return it == by_service_.end() ? *kNone : it->second;
}

const DirectoryDeparture* DirectoryCache::Departed(
    const std::string& host) const {
  for (auto it = departed_.rbegin(); it != departed_.rend(); ++it) {
    if (it->host == host) return &*it;
  }
  return nullptr;
}

const DirectoryDeparture* DirectoryCache::DepartedOffering(
    const std::string& service) const {
  for (auto it = departed_.rbegin(); it != departed_.rend(); ++it) {
    if (std::binary_search(it->services.begin(), it->services.end(), service)) {
      return &*it;
    }
  }
  return nullptr;
}

std::vector<DirectoryHost> DirectoryCache::List() const {
  std::vector<DirectoryHost> hosts;
  hosts.reserve(hosts_.size());
  for (const auto& [name, host] : hosts_) hosts.push_back(host);
  return hosts;
}

}  // namespace swift
