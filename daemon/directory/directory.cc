// Directory implementation; see directory.h.
#include "daemon/directory/directory.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "daemon/directory/host_record_json.h"
#include "glog/logging.h"

namespace swift {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);

const char* KindName(DirectoryChange::Kind kind) {
  switch (kind) {
    case DirectoryChange::Kind::kAdded:
      return "joined";
    case DirectoryChange::Kind::kUpdated:
      return "updated";
    case DirectoryChange::Kind::kRestarted:
      return "restarted";
    case DirectoryChange::Kind::kRemoved:
      return "left";
  }
  return "changed";
}

}  // namespace

Directory::Directory(DirectoryOptions options, RecordSource self,
                     ChangeListener on_change)
    : options_(std::move(options)),
      self_(std::move(self)),
      on_change_(std::move(on_change)),
      client_(options_.url.endpoints, options_.tls),
      cache_(options_.url.HostsPrefix()) {
  state_.since = absl::Now();
  state_.last_error = "not started";
}

Directory::~Directory() { Stop(); }

void Directory::Start() {
  registration_thread_ = std::thread([this] {
    NameThisThread("sw-dir-register");
    RegistrationLoop();
  });
  watch_thread_ = std::thread([this] {
    NameThisThread("sw-dir-watch");
    WatchLoop();
  });
}

void Directory::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (watch_ != nullptr) watch_->Cancel();
  }
  if (registration_thread_.joinable()) registration_thread_.join();
  if (watch_thread_.joinable()) watch_thread_.join();
}

void Directory::Republish() {
  absl::MutexLock lock(&mu_);
  republish_ = true;
}

bool Directory::SleepUnlessStopped(absl::Duration timeout, bool or_republish) {
  absl::MutexLock lock(&mu_);
  auto woken = [this, or_republish]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (or_republish && republish_);
  };
  mu_.AwaitWithTimeout(absl::Condition(&woken), timeout);
  return stopping_;
}

void Directory::Record(Part part, const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  const bool was = registration_ok_ && watch_ok_;
  (part == Part::kRegistration ? registration_ok_ : watch_ok_) = status.ok();
  if (!status.ok()) state_.last_error = std::string(status.message());
  state_.reachable = registration_ok_ && watch_ok_;
  if (state_.reachable != was) {
    state_.since = absl::Now();
    if (state_.reachable) {
      LOG(INFO) << "directory " << options_.url.text << ": reachable";
    } else {
      LOG(WARNING) << "directory " << options_.url.text
                   << ": unreachable, serving the " << cache_.size()
                   << " cached hosts: " << state_.last_error;
    }
  }
}

absl::Status Directory::CheckNameIsOurs(const std::string& key,
                                        const std::string& peer_address,
                                        absl::Time deadline) {
  absl::StatusOr<EtcdClient::Snapshot> held = client_.GetPrefix(key, deadline);
  if (!held.ok()) return held.status();
  for (const EtcdKeyValue& kv : held->kvs) {
    if (kv.key != key) continue;  // Another host whose name starts so.
    absl::StatusOr<directory::v1::HostRecord> record =
        HostRecordFromJson(kv.value);
    if (!record.ok() || record->peer_address() == peer_address) {
      // Unreadable, or this host's own from before a restart: ours to
      // overwrite.
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "host name '", options_.host_name, "' is held in the directory by ",
        "the swiftd at ", record->peer_address(), " (incarnation ",
        record->incarnation(), "), not this one at ", peer_address,
        ": give one of them another --host_name (this swiftd retries, and "
        "registers once that record is gone)"));
  }
  return absl::OkStatus();
}

absl::Status Directory::RegisterOnce(int64_t* lease, std::string* published,
                                     bool* must_publish) {
  const absl::Time deadline = absl::Now() + options_.call_timeout;
  const std::string key = options_.url.HostsPrefix() + options_.host_name;
  const directory::v1::HostRecord self = self_();
  const std::string json = HostRecordToJson(self);
  if (*lease == 0) {
    // Two hosts given one name would overwrite each other's record, and
    // every swiftd would see a restart at each write.
    if (absl::Status ours = CheckNameIsOurs(key, self.peer_address(), deadline);
        !ours.ok()) {
      return ours;
    }
    absl::StatusOr<EtcdClient::Lease> granted =
        client_.GrantLease(options_.ttl, deadline);
    if (!granted.ok()) return granted.status();
    *lease = granted->id;
    absl::MutexLock lock(&mu_);
    state_.lease_id = granted->id;
    state_.lease_ttl = granted->ttl;
    ++state_.registrations;
    *must_publish = true;
  }
  if (*must_publish || json != *published) {
    absl::StatusOr<int64_t> revision = client_.Put(key, json, *lease, deadline);
    if (!revision.ok()) return revision.status();
    *published = json;
    *must_publish = false;
    absl::MutexLock lock(&mu_);
    if (!state_.registered) {
      LOG(INFO) << "directory " << options_.url.text << ": registered as "
                << options_.host_name << " (lease " << *lease << ", TTL "
                << state_.lease_ttl << ")";
    }
    state_.registered = true;
    return absl::OkStatus();
  }
  absl::StatusOr<absl::Duration> renewed = client_.KeepAlive(*lease, deadline);
  if (absl::IsNotFound(renewed.status())) {
    // etcd let it expire (it could not hear us for a TTL): the record is
    // gone; a new lease and record at once.
    LOG(WARNING) << "directory " << options_.url.text << ": "
                 << renewed.status().message() << "; registering again";
    *lease = 0;
    absl::MutexLock lock(&mu_);
    state_.registered = false;
    return RegisterOnce(lease, published, must_publish);
  }
  return renewed.status();
}

void Directory::RegistrationLoop() {
  int64_t lease = 0;
  std::string published;
  bool must_publish = true;
  absl::Duration backoff = kFirstBackoff;
  absl::Duration wait = absl::ZeroDuration();
  while (!SleepUnlessStopped(wait, /*or_republish=*/true)) {
    {
      absl::MutexLock lock(&mu_);
      republish_ = false;
    }
    absl::Status status = RegisterOnce(&lease, &published, &must_publish);
    if (absl::IsFailedPrecondition(status)) {
      // etcd answered: it is reachable, but the name is another host's.
      Record(Part::kRegistration, absl::OkStatus());
      absl::MutexLock lock(&mu_);
      LOG_IF(ERROR, state_.last_error != status.message())
          << "directory " << options_.url.text << ": " << status.message();
      state_.last_error = std::string(status.message());
    } else {
      Record(Part::kRegistration, status);
    }
    if (status.ok()) {
      backoff = kFirstBackoff;
      absl::MutexLock lock(&mu_);
      wait = state_.lease_ttl / 3;
    } else {
      VLOG(1) << "directory registration: " << status;
      // While a lease may still live, retry within its TTL: etcd back
      // from an outage extends every lease by its TTL, and a renewal in
      // that window keeps this host from flapping out of the directory.
      wait = lease != 0 ? std::min(backoff, options_.ttl / 3) : backoff;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }
  if (lease != 0) {
    // Others see this host leave now rather than after a TTL.
    absl::Status revoked =
        client_.RevokeLease(lease, absl::Now() + options_.call_timeout);
    LOG_IF(WARNING, !revoked.ok())
        << "directory: could not revoke lease " << lease
        << " (the record expires with its TTL): " << revoked;
  }
}

void Directory::Notify(const std::vector<DirectoryChange>& changes,
                       bool log_each) {
  for (const DirectoryChange& change : changes) {
    if (log_each && change.kind != DirectoryChange::Kind::kUpdated) {
      LOG(INFO) << "directory: host " << change.host << " ("
                << change.peer_address << ") " << KindName(change.kind)
                << (change.reason.empty() ? "" : ": ") << change.reason;
    }
    if (on_change_) on_change_(change);
  }
}

absl::StatusOr<std::unique_ptr<EtcdClient::Watch>> Directory::SnapshotThenWatch(
    bool first) {
  // The snapshot (every record's JSON) lives only in here: held while
  // watching, it would double this swiftd's memory per host.
  absl::StatusOr<EtcdClient::Snapshot> snapshot = client_.GetPrefix(
      options_.url.HostsPrefix(), absl::Now() + options_.call_timeout);
  if (!snapshot.ok()) return snapshot.status();
  std::vector<DirectoryChange> changes;
  size_t hosts = 0;
  {
    absl::MutexLock lock(&mu_);
    changes = cache_.Replace(snapshot->kvs, absl::Now());
    state_.revision = std::max(state_.revision, snapshot->revision);
    hosts = state_.hosts = cache_.size();
    state_.bad_records = cache_.bad_records();
    if (!first) ++state_.watch_restarts;
  }
  // One line, not one per host: a cluster's first read lists thousands.
  std::map<DirectoryChange::Kind, int> counts;
  for (const DirectoryChange& change : changes) ++counts[change.kind];
  LOG(INFO) << "directory " << options_.url.text << ": read " << hosts
            << " hosts at revision " << snapshot->revision << " ("
            << counts[DirectoryChange::Kind::kAdded] << " joined, "
            << counts[DirectoryChange::Kind::kRestarted] << " restarted, "
            << counts[DirectoryChange::Kind::kRemoved] << " left"
            << (first ? "" : " since the last read") << ")";
  Notify(changes, /*log_each=*/false);
  return client_.WatchPrefix(options_.url.HostsPrefix(),
                             snapshot->revision + 1);
}

void Directory::WatchLoop() {
  absl::Duration backoff = kFirstBackoff;
  bool first = true;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::StatusOr<std::unique_ptr<EtcdClient::Watch>> started =
        SnapshotThenWatch(first);
    absl::Status status = started.status();
    std::unique_ptr<EtcdClient::Watch> watch;
    if (started.ok()) {
      first = false;
      watch = *std::move(started);
    }
    if (watch != nullptr) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        watch_ = watch.get();
      }
      Record(Part::kWatch, absl::OkStatus());
      backoff = kFirstBackoff;
      std::vector<EtcdEvent> events;
      int64_t revision = 0;
      while ((status = watch->Next(&events, &revision)).ok()) {
        std::vector<DirectoryChange> changes;
        {
          absl::MutexLock lock(&mu_);
          const absl::Time now = absl::Now();
          for (const EtcdEvent& event : events) {
            std::optional<DirectoryChange> change =
                event.deleted
                    ? cache_.Remove(event.kv.key, now,
                                    "its record left the directory (its "
                                    "swiftd stopped, or its lease expired: "
                                    "the host or its swiftd died)")
                    : cache_.Put(event.kv, now);
            if (change.has_value()) changes.push_back(std::move(*change));
          }
          state_.revision = std::max(state_.revision, revision);
          state_.hosts = cache_.size();
          state_.bad_records = cache_.bad_records();
        }
        Notify(changes, /*log_each=*/true);
      }
      absl::MutexLock lock(&mu_);
      watch_ = nullptr;
      if (stopping_) return;
    }
    Record(Part::kWatch, status);
    VLOG(1) << "directory watch: " << status;
    if (SleepUnlessStopped(backoff, /*or_republish=*/false)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::Status Directory::MissingHostError(const std::string& host) const {
  if (const DirectoryDeparture* gone = cache_.Departed(host)) {
    return absl::NotFoundError(
        absl::StrCat("host ", host, " (", gone->peer_address,
                     ") left the directory ", options_.url.text, " at ",
                     absl::FormatTime(gone->at), ": ", gone->reason));
  }
  if (!state_.reachable) {
    return absl::UnavailableError(absl::StrCat(
        "the directory ", options_.url.text, " is unreachable (since ",
        absl::FormatTime(state_.since), ": ", state_.last_error, ") and host ",
        host, " is not among the ", cache_.size(), " hosts it held"));
  }
  return absl::NotFoundError(
      absl::StrCat("no host ", host, " in the directory ", options_.url.text,
                   " (", cache_.size(), " hosts)"));
}

absl::StatusOr<std::string> Directory::ResolveHost(const std::string& host) {
  absl::MutexLock lock(&mu_);
  if (const DirectoryHost* found = cache_.Find(host)) {
    return found->peer_address;
  }
  return MissingHostError(host);
}

absl::StatusOr<std::string> Directory::PickHostForService(
    const std::string& service) {
  absl::MutexLock lock(&mu_);
  const std::vector<const DirectoryHost*>& hosts = cache_.Offering(service);
  if (hosts.empty()) {
    if (const DirectoryDeparture* gone = cache_.DepartedOffering(service)) {
      return absl::NotFoundError(absl::StrCat(
          "no host in the directory ", options_.url.text, " offers service '",
          service, "'; ", gone->host, ", which did, left at ",
          absl::FormatTime(gone->at), ": ", gone->reason));
    }
    if (!state_.reachable) {
      return absl::UnavailableError(absl::StrCat(
          "the directory ", options_.url.text, " is unreachable (since ",
          absl::FormatTime(state_.since), ": ", state_.last_error,
          ") and none of the ", cache_.size(),
          " hosts it held offers service '", service, "'"));
    }
    return absl::NotFoundError(absl::StrCat(
        "no host in the directory ", options_.url.text, " offers service '",
        service, "' (", cache_.size(), " hosts)"));
  }
  for (const DirectoryHost* host : hosts) {
    // This host first: the connection then crosses no network to broker.
    if (host->host == options_.host_name) return host->host;
  }
  if (next_pick_.size() > 4096) next_pick_.clear();  // Services come and go.
  uint64_t& next = next_pick_[service];
  return hosts[next++ % hosts.size()]->host;
}

Directory::State Directory::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

std::vector<DirectoryHost> Directory::List() const {
  absl::MutexLock lock(&mu_);
  return cache_.List();
}

}  // namespace swift
