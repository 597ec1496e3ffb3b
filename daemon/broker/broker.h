// Broker: the local side of brokered connections. A local application's
// Connect goes through admission control to the remote host's swiftd
// (PeerDirectory), and the connection is recorded until it is closed.
//
// Connections die with the fast path connection they were made on (the
// client process exiting closes it): the remote service recycles their
// QPs, so nothing stays half-connected.
//
// Tenants (issue 10, finding 5): a connection belongs to the uid that made
// it (SO_PEERCRED); only that uid or root may close it. Each tenant holds
// at most its quota of connections (BrokerQuotas), a connect waits at most
// `max_timeout` whatever it asks, and the peers swiftd will dial for its
// clients are bounded in number (`max_peer_entries`). Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_BROKER_H_
#define SWIFT_DAEMON_BROKER_BROKER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/broker/admission_controller.h"
#include "daemon/broker/broker_quotas.h"
#include "daemon/broker/change_board.h"
#include "daemon/broker/defaults.h"
#include "daemon/broker/host_resolver.h"
#include "daemon/broker/peer_directory.h"
#include "daemon/broker/peer_watcher.h"
#include "daemon/broker/remote_closer.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/fast_path.pb.h"
#include "proto/peer.pb.h"

namespace swift {

// The most a client's connect may ask to wait (--max_connect_timeout's
// default): an unbounded timeout let one tenant hold handshake slots for
// as long as it liked with hosts that never answer (issue 10, finding 5).
inline constexpr absl::Duration kMaxHandshakeTimeout = absl::Seconds(30);

class Broker final {
 public:
  struct ConnectionView {
    uint64_t id = 0;
    std::string peer;
    std::string service;
    uint64_t server_connection_id = 0;
    int64_t client_pid = 0;
    std::string client_name;
    // The tenant that made it (SO_PEERCRED): it and root may close it.
    uid_t uid = 0;
    absl::Time connected_at;
    absl::Duration handshake_time;
    // See Connection::ended_because and suspect_because (the one set).
    std::string remote_problem;
    bool remote_ended = false;
  };

  struct Counters {
    uint64_t connected = 0;
    uint64_t closed = 0;
    // Failed connects by reason (status code name).
    absl::flat_hash_map<std::string, uint64_t> failed;
  };

  struct Options {
    // Connects without a timeout of their own wait this.
    absl::Duration default_timeout = kDefaultHandshakeTimeout;
    // No connect waits longer, whatever its timeout_ms
    // (--max_connect_timeout): a handshake slot is held at most this long.
    absl::Duration max_timeout = kMaxHandshakeTimeout;
    // Peers (addresses the PeerDirectory knows, configured ones included)
    // at most; a connect to an "ip:port" that would add one more is
    // refused (--max_peer_entries). Names from --peers always resolve.
    int max_peer_entries = 256;
    // Per-tenant connection quotas; null: the broker's own, with defaults.
    BrokerQuotas* quotas = nullptr;
    // Picks the host of a connect that names only its service (the
    // cluster directory); null: such connects are refused.
    HostResolver* resolver = nullptr;
    // Told of every connect that succeeded, with the tenant (uid) that
    // made it and its steps (metrics: daemon/metrics/connect_metrics.h;
    // listings: daemon/api/connect_stats.h). Called on the connecting
    // thread with the broker's lock held: it must be quick and must not
    // call the broker. Empty: nobody is told.
    std::function<void(uid_t uid, const v1::ConnectResult&)> on_connected;
    // How often the peers connections were made with are watched
    // (PeerWatcher, --peer_watch_interval): how soon CheckConnections
    // knows that a remote side went. Zero: never (CheckConnections then
    // knows only what connects and closes tell).
    absl::Duration watch_interval = absl::Seconds(1);
  };

  // `peers`, `admission` and `options.quotas` must outlive the broker.
  Broker(PeerDirectory* peers, AdmissionController* admission,
         Options options);
  Broker(PeerDirectory* peers, AdmissionController* admission)
      : Broker(peers, admission, Options()) {}
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;
  // Stops the watcher, finishes the remote closes still queued (each batch
  // bounded by the default timeout), then stops the closer thread.
  ~Broker();

  // Connect()
  //
  // Brokers `call` for `caller` with the remote swiftd and returns the
  // service's endpoint. Errors: kInvalidArgument (bad host or endpoint),
  // kUnavailable (peer down), kNotFound (no such service there),
  // kResourceExhausted (its pool is empty, too many queued here, the
  // caller's connection quota, or no room for another peer; the message
  // names the flag), kDeadlineExceeded, kFailedPrecondition (version
  // mismatch).
  absl::StatusOr<v1::ConnectResult> Connect(const FastPathCaller& caller,
                                            const v1::ConnectCall& call);

  // Close(): ends connection `id` for `caller` here at once: kNotFound for
  // an unknown id, kPermissionDenied when it is another uid's and the
  // caller is not root. Telling the remote swiftd, whose service recycles
  // its QP, happens on a background thread, off the caller's path.
  absl::Status Close(const FastPathCaller& caller, uint64_t id);

  // Closes every connection made on fast path connection `channel_id`.
  void CloseAllOf(uint64_t channel_id);

  // CheckConnections()
  //
  // Whether each of `ids` is still whole as far as this swiftd knows: not
  // ended by its service (the remote application closed it or went
  // away), made with the incarnation of the peer swiftd that still runs,
  // and with a peer that answers its watch (PeerWatcher). A connection
  // that is not live says why; so does an id that is not the caller's
  // (unknown, or another uid's when the caller is not root). At most
  // kMaxCheckedConnections ids (kInvalidArgument beyond).
  absl::StatusOr<v1::CheckConnectionsResult> CheckConnections(
      const FastPathCaller& caller, const v1::CheckConnectionsCall& call) const;
  static constexpr int kMaxCheckedConnections = 1024;

  // WatchChanges()
  //
  // The caller's tenant's change page (change_board.h), bumped each time a
  // connection of the tenant is found ended or suspect (what
  // CheckConnections would then say): a read-only fd and its count now.
  absl::StatusOr<ChangeBoard::Shared> WatchChanges(
      const FastPathCaller& caller);

  // WatchedPeers(): the peers (directory addresses) connections here were
  // made with: the ones PeerWatcher calls.
  std::vector<std::string> WatchedPeers() const;

  // OnPeerWatched(): what a Watch of `address` said (or why it failed):
  // the connections it ended are marked so (CheckConnections tells), and
  // those of a peer that does not answer are suspect until it does again.
  void OnPeerWatched(const std::string& address,
                     const absl::StatusOr<peer::v1::WatchResponse>& watched);

  // OnPeerGone(): the cluster directory says the swiftd at `address` with
  // `incarnation` is gone (its host registered a new incarnation): the
  // connections made with it are ended with `reason`, so that
  // CheckConnections tells at once instead of at the next watch.
  void OnPeerGone(const std::string& address, uint64_t incarnation,
                  const std::string& reason);

  std::vector<ConnectionView> Connections() const;
  // Every tenant's, and one tenant's (empty before its first connect).
  Counters GetCounters() const;
  Counters GetCountersOf(uid_t uid) const;

  const BrokerQuotas& quotas() const { return *quotas_; }
  const AdmissionController& admission() const { return *admission_; }
  PeerWatcher& watcher() { return watcher_; }
  const Options& options() const { return options_; }
  // Peers known to the directory now (configured ones included).
  int peer_entries() const;
  // Closes (and abandoned connects) their peer has not heard of yet: it
  // was unreachable; they are told again once it answers.
  size_t undelivered_closes() const;

 private:
  struct Connection {
    ConnectionView view;
    uint64_t channel_id = 0;
    uint64_t peer_incarnation = 0;
    // Why the remote side no longer holds it (its service closed it, its
    // swiftd restarted); empty while whole. Such a connection is not told
    // of its close: the peer has forgotten it.
    std::string ended_because;
    // Why it may be broken (the peer does not answer its watch); cleared
    // once the peer answers with the same incarnation.
    std::string suspect_because;
  };

  void CountFailure(uid_t uid, const absl::Status& status);
  // Ends `it`'s connection (mu_ held): queued for the remote close, its
  // quota given back.
  void EndLocked(
      absl::flat_hash_map<uint64_t, Connection>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Admits a first dial of `host` only while the directory has room for
  // one more peer (Options::max_peer_entries); on success the caller must
  // call EndFirstDial(host) once the directory knows the outcome.
  // *first_dial says whether it was one.
  absl::Status BeginDial(const std::string& host, bool* first_dial);
  void EndFirstDial(const std::string& host, bool known);

  PeerDirectory* const peers_;
  AdmissionController* const admission_;
  const Options options_;
  std::unique_ptr<BrokerQuotas> own_quotas_;
  BrokerQuotas* const quotas_;
  mutable absl::Mutex mu_;
  // Starts at a random point (FirstConnectionId()): a connection handle
  // from before a restart must not name one of the new swiftd's
  // connections (a stale Close closed another connection of the same
  // process when both swiftds counted from 1).
  uint64_t next_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Connection> connections_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
  // Per tenant; bounded by the uids that ever connected here.
  absl::flat_hash_map<uid_t, Counters> tenant_counters_ ABSL_GUARDED_BY(mu_);
  // Hosts (as clients name them) the directory has an entry for, and the
  // first dials of new hosts under way; together bounded by
  // max_peer_entries plus the configured names.
  absl::flat_hash_set<std::string> known_hosts_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> dialing_ ABSL_GUARDED_BY(mu_);
  // Tells peers of closes (destroyed after the watcher, after telling
  // what is queued).
  RemoteCloser closer_;
  // Bumped under mu_ where a connection's ended_because or suspect_because
  // is first set, and where swiftd ends connections their client did not
  // close (CloseAllOf).
  ChangeBoard changes_;
  // Calls back into this broker: declared last, so it stops first.
  PeerWatcher watcher_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_BROKER_H_
