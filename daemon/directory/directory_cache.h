// DirectoryCache: this swiftd's copy of the directory's host records,
// kept current from etcd's answers (a snapshot, then watch events), and
// the lookups served from it.
//
// Pure (no etcd, no threads, no clocks of its own) so that every rule is
// tested on the host: a record whose key and host disagree or whose value
// does not parse is refused (counted, never cached); an incarnation change
// is a restart; a host that leaves is remembered for a while (bounded) so
// that a connect to it can say why it failed. Not thread-safe: Directory
// holds it under its mutex.
#ifndef SWIFT_DAEMON_DIRECTORY_DIRECTORY_CACHE_H_
#define SWIFT_DAEMON_DIRECTORY_DIRECTORY_CACHE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/directory/etcd_key_value.h"

namespace swift {

// One host as the directory describes it.
struct DirectoryHost {
  struct Device {
    std::string name;
    std::string gid;
  };
  std::string host;
  std::string peer_address;  // "ip:port" of its Peer API.
  uint32_t link_port = 0;
  uint64_t incarnation = 0;
  std::vector<Device> devices;
  std::vector<std::string> services;  // Sorted.
  int64_t started_unix_ms = 0;
  int64_t mod_revision = 0;  // etcd's revision of the record.
  absl::Time updated;        // When this swiftd learned it.
};

// What a snapshot or an event changed, for the listeners (the peer
// directory forgets a restarted or departed peer's metadata).
struct DirectoryChange {
  enum class Kind { kAdded, kUpdated, kRestarted, kRemoved };
  Kind kind = Kind::kAdded;
  std::string host;
  std::string peer_address;
  uint64_t old_incarnation = 0;  // kUpdated, kRestarted, kRemoved.
  uint64_t new_incarnation = 0;  // kAdded, kUpdated, kRestarted.
  std::string reason;            // kRestarted, kRemoved: for logs and errors.
};

// A host that left the directory, remembered for error messages.
struct DirectoryDeparture {
  std::string host;
  std::string peer_address;
  std::vector<std::string> services;
  absl::Time at;
  std::string reason;
};

class DirectoryCache {
 public:
  // `hosts_prefix`: DirectoryUrl::HostsPrefix(); `max_departed`: how many
  // departures are remembered (oldest forgotten first).
  explicit DirectoryCache(std::string hosts_prefix, size_t max_departed = 1024);

  // Replace(): the whole directory as a Range answered it (key, value
  // pairs with their mod revisions). Returns what changed against the
  // cache: hosts added, restarted or updated, and those gone meanwhile.
  std::vector<DirectoryChange> Replace(const std::vector<EtcdKeyValue>& records,
                                       absl::Time now);

  // Put(): a record written (watch PUT). Returns the change, or nothing
  // when it is refused (see bad_records()) or changes nothing a listener
  // needs (kUpdated is still returned for changed services).
  std::optional<DirectoryChange> Put(const EtcdKeyValue& record,
                                     absl::Time now);

  // Remove(): a record deleted (watch DELETE: its swiftd stopped, or its
  // lease expired because the host or its swiftd died).
  std::optional<DirectoryChange> Remove(const std::string& key, absl::Time now,
                                        const std::string& reason);

  // Lookups. Find(): the host named `host`; Offering(): the hosts with
  // `service`, sorted by name; Departed(): why `host` left, if it did
  // recently and has not come back.
  const DirectoryHost* Find(const std::string& host) const;
  // (A reference into the index, valid until the next change: a service
  // many hosts offer is not copied on every connect.)
  const std::vector<const DirectoryHost*>& Offering(
      const std::string& service) const;
  const DirectoryDeparture* Departed(const std::string& host) const;
  // The most recent departure of a host that offered `service`.
  const DirectoryDeparture* DepartedOffering(const std::string& service) const;

  std::vector<DirectoryHost> List() const;
  size_t size() const { return hosts_.size(); }
  // Records refused since the start, and the last reason.
  uint64_t bad_records() const { return bad_records_; }
  const std::string& last_bad_record() const { return last_bad_record_; }

 private:
  // Parses and checks one record; the host name comes from the key.
  absl::Status Decode(const EtcdKeyValue& record, absl::Time now,
                      DirectoryHost* host) const;
  // Adds `host` (an entry of hosts_) to, or removes it from, the service
  // index.
  void Index(const DirectoryHost* host);
  void Unindex(const DirectoryHost* host);
  void Depart(const DirectoryHost& host, absl::Time now,
              const std::string& reason);
  void ForgetDeparture(const std::string& host);
  void Refuse(const std::string& key, const absl::Status& why);

  const std::string hosts_prefix_;
  const size_t max_departed_;
  std::map<std::string, DirectoryHost> hosts_;
  // service -> the hosts_ entries offering it, sorted by name: 8 bytes per
  // host and service (a set of names cost ~80; issue 14: 10,000 hosts must
  // cost a swiftd under 10 MB).
  absl::flat_hash_map<std::string, std::vector<const DirectoryHost*>>
      by_service_;
  std::deque<DirectoryDeparture> departed_;  // Oldest first.
  uint64_t bad_records_ = 0;
  std::string last_bad_record_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DIRECTORY_DIRECTORY_CACHE_H_
