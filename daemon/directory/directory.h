// Directory: this swiftd's place in the cluster's service directory on
// etcd (issue 14), and its current view of every other host.
//
// Two threads, neither on any request's path:
// - registration: grants an etcd lease of `ttl`, writes this host's record
//   (proto/directory.proto: peer address, incarnation, devices and GIDs,
//   services) bound to it, renews it every third of the TTL and rewrites
//   the record when Republish() says it changed. When etcd cannot be
//   reached it retries with backoff (100 ms doubling to `max_backoff`);
//   when the lease expired meanwhile, it takes a new one. So a host whose
//   swiftd or kernel dies leaves the directory by itself within the TTL,
//   and Stop() revokes the lease so that a clean stop is seen at once;
// - watch: reads every record under the prefix (one snapshot), then
//   watches the prefix from the snapshot's revision; a broken watch is
//   read again from a fresh snapshot, after backoff.
//
// Lookups (ResolveHost, PickHostForService, List) answer from the cached
// records under a mutex and never call etcd, so a slow or dead etcd slows
// no connect: cached hosts keep serving, and a host the cache does not
// hold fails with kUnavailable naming the directory while it cannot be
// reached, kNotFound when it can. Service policy: this host first when it
// offers the service (no network hop), else round robin over the hosts
// offering it, in name order. Changes that make cached peer state wrong
// (a restart: new incarnation; a host that left) are told to the listener
// from the watch thread. Thread-safe.
#ifndef SWIFT_DAEMON_DIRECTORY_DIRECTORY_H_
#define SWIFT_DAEMON_DIRECTORY_DIRECTORY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/broker/host_resolver.h"
#include "daemon/directory/directory_cache.h"
#include "daemon/directory/directory_url.h"
#include "daemon/directory/etcd_client.h"
#include "proto/directory.pb.h"

namespace swift {

struct DirectoryOptions {
  DirectoryUrl url;
  // TLS to etcd (--directory_ca_file ...); disabled: plain gRPC.
  EtcdTls tls;
  // This host's name in the directory (swiftd --host_name).
  std::string host_name;
  // The lease's time to live: how long a dead host stays listed at most.
  absl::Duration ttl = absl::Seconds(2);
  // Each call to etcd.
  absl::Duration call_timeout = absl::Seconds(2);
  absl::Duration max_backoff = absl::Seconds(2);
};

class Directory final : public HostResolver {
 public:
  // This host's record as it should read now (services current);
  // called on the registration thread.
  using RecordSource = std::function<directory::v1::HostRecord()>;
  using ChangeListener = std::function<void(const DirectoryChange&)>;

  Directory(DirectoryOptions options, RecordSource self,
            ChangeListener on_change);
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  ~Directory() override;

  // Start(): starts both threads and returns; registration goes on in the
  // background (state() says how it goes).
  void Start();
  // Stop(): revokes the lease (bounded by call_timeout), stops the threads.
  void Stop();
  // Republish(): this host's record changed (a service came or went).
  void Republish();

  // HostResolver.
  absl::StatusOr<std::string> ResolveHost(const std::string& host) override;
  absl::StatusOr<std::string> PickHostForService(
      const std::string& service) override;
  std::string Describe() const override { return options_.url.text; }

  struct State {
    bool reachable = false;   // The last call and the watch both worked.
    bool registered = false;  // This host's record is in etcd.
    absl::Time since;         // When `reachable` last changed.
    std::string last_error;
    int64_t lease_id = 0;
    absl::Duration lease_ttl;
    int64_t revision = 0;  // The newest etcd revision seen.
    size_t hosts = 0;
    uint64_t bad_records = 0;
    uint64_t registrations = 0;   // Leases granted (1 unless etcd lost us).
    uint64_t watch_restarts = 0;  // Snapshots read after the first.
  };
  State state() const;
  std::vector<DirectoryHost> List() const;
  const DirectoryOptions& options() const { return options_; }

 private:
  void RegistrationLoop();
  void WatchLoop();
  // Reads every record into the cache (one snapshot), then watches from
  // the revision after it.
  absl::StatusOr<std::unique_ptr<EtcdClient::Watch>> SnapshotThenWatch(
      bool first);
  // OK unless `key` holds another host's record (another peer address):
  // kFailedPrecondition naming it.
  absl::Status CheckNameIsOurs(const std::string& key,
                               const std::string& peer_address,
                               absl::Time deadline);
  // One registration step: grant, put or renew as needed.
  absl::Status RegisterOnce(int64_t* lease, std::string* published,
                            bool* must_publish);
  // Waits up to `timeout` or until Stop() (returns true), or, with
  // `or_republish`, until Republish().
  bool SleepUnlessStopped(absl::Duration timeout, bool or_republish);
  enum class Part { kRegistration, kWatch };
  void Record(Part part, const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  // Tells the listener of each change; logs each one with `log_each`.
  void Notify(const std::vector<DirectoryChange>& changes, bool log_each);
  absl::Status MissingHostError(const std::string& host) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DirectoryOptions options_;
  const RecordSource self_;
  const ChangeListener on_change_;
  EtcdClient client_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool republish_ ABSL_GUARDED_BY(mu_) = false;
  DirectoryCache cache_ ABSL_GUARDED_BY(mu_);
  State state_ ABSL_GUARDED_BY(mu_);
  bool registration_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool watch_ok_ ABSL_GUARDED_BY(mu_) = false;
  EtcdClient::Watch* watch_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Per service: the next round-robin pick.
  absl::flat_hash_map<std::string, uint64_t> next_pick_ ABSL_GUARDED_BY(mu_);

  std::thread registration_thread_;
  std::thread watch_thread_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DIRECTORY_DIRECTORY_H_
