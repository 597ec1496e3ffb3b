// ServiceRegistry: the services local applications listen on, with the
// pools of ready QPs they advertised, and the connections swiftd made to
// them.
//
// A service lives as long as its application's SERVICE channel (a fast
// path connection): the application advertises RC QPs in INIT; a remote
// client's Connect takes one (Accept), asks the application to move it to
// RTR and RTS, and answers with its endpoint.
//
// Tenants (issue 10, findings 5 and 9): a service belongs to the uid that
// listens (SO_PEERCRED). Names are global (remote clients name them), but
// another uid can neither take nor replace a listening service's name
// (kPermissionDenied); each uid holds at most its quotas of services and
// pooled endpoints (BrokerQuotas), and each service at most
// --max_pooled_endpoints_per_service. Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_SERVICE_REGISTRY_H_
#define SWIFT_DAEMON_BROKER_SERVICE_REGISTRY_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "common/verbs/endpoint.h"
#include "daemon/broker/broker_quotas.h"
#include "daemon/broker/closed_notices.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/fast_path.pb.h"

namespace swift {

class ServiceRegistry final {
 public:
  struct ServiceStats {
    std::string name;
    std::string owner;  // The application's name and pid.
    uid_t owner_uid = 0;  // Its tenant (SO_PEERCRED).
    int pooled = 0;       // Advertised QPs not yet taken.
    int connections = 0;
    uint64_t accepted = 0;
    uint64_t refused = 0;  // Pool empty, or the application failed.
  };

  struct Accepted {
    verbs::QpEndpoint server_endpoint;
    uint64_t connection_id = 0;
    // From sending the AcceptEvent to the application's answer, and the
    // application's own part of it (as it reported).
    absl::Duration app_wait;
    absl::Duration app_accept;
  };

  // `accept_timeout`: how long an application may take to move a QP to RTS.
  // `quotas` (which must outlive the registry) holds the tenants' services
  // and pooled endpoints; null: the registry's own, with defaults.
  explicit ServiceRegistry(absl::Duration accept_timeout = absl::Seconds(5),
                           BrokerQuotas* quotas = nullptr);
  ServiceRegistry(const ServiceRegistry&) = delete;
  ServiceRegistry& operator=(const ServiceRegistry&) = delete;

  // ServeChannel()
  //
  // Runs a SERVICE channel on the calling thread (a fast path connection
  // thread) until the application closes it or Shutdown(): registers the
  // service named by the first ServiceUp (a ListenCall), then takes
  // endpoints and accept replies. Unregisters the service at the end, which
  // fails the accepts waiting on it with kUnavailable. The ListenReply
  // refuses: kPermissionDenied (another uid's name), kAlreadyExists (the
  // caller's own), kResourceExhausted (a quota, named by its flag). Later
  // endpoints over a quota are dropped and the application told
  // (ServiceDown.endpoints_refused).
  void ServeChannel(SeqpacketSocket channel, const FastPathCaller& caller);

  // Accept()
  //
  // Takes one of `service`'s pooled QPs for `client`, has the application
  // connect it and returns its endpoint. The connection is `peer`'s (the
  // calling swiftd's authenticated identity, its IP): only `peer` may
  // close it. kNotFound: no such service;
  // kResourceExhausted: its pool is empty; kUnavailable: the application
  // went away; kDeadlineExceeded: it did not answer in time; or the
  // application's own error. Blocks up to the accept timeout or `deadline`.
  absl::StatusOr<Accepted> Accept(const std::string& service,
                                  const verbs::QpEndpoint& client,
                                  absl::Time deadline, const std::string& peer,
                                  uint64_t peer_incarnation = 0,
                                  uint64_t client_connection_id = 0);

  // StartAccept()
  //
  // Accept() without waiting: sends the application its accept event and
  // returns. `done` then gets the outcome exactly once, on the thread that
  // learns it, with no lock held: the service channel's, when the
  // application answers or goes away, or the one calling ExpireAccept().
  // This lets the peer link answer from the channel's thread, without
  // waking a thread that waits (a wake-up is most of a connect's cost).
  // An error returned (no such service, an empty pool, the event not
  // sent) is the outcome: `done` is never called then.
  using AcceptDone = std::function<void(absl::StatusOr<Accepted>)>;
  struct StartedAccept {
    std::string service;
    uint64_t id = 0;
    // When the caller must ExpireAccept() it: the earlier of its deadline
    // and the accept timeout.
    absl::Time deadline;
  };
  absl::StatusOr<StartedAccept> StartAccept(
      const std::string& service, const verbs::QpEndpoint& client,
      absl::Time deadline, const std::string& peer, uint64_t peer_incarnation,
      uint64_t client_connection_id, AcceptDone done);

  // ExpireAccept()
  //
  // Gives `started` kDeadlineExceeded through its `done`, on this thread,
  // unless its outcome was given already (false: it came, or is on its
  // way on another thread). Its QP stays recorded, so that the
  // application's late answer recycles it.
  bool ExpireAccept(const StartedAccept& started);

  // Close()
  //
  // Ends connection `connection_id` for `peer`: tells the application to
  // recycle its QP. kNotFound for an unknown id (closed already, or its
  // service gone); kPermissionDenied when another peer made it (ids are
  // sequential: any authenticated peer could otherwise close another's).
  absl::Status Close(uint64_t connection_id, const std::string& peer);

  // CloseOlderIncarnations()
  //
  // Closes every connection `peer` made in an incarnation other than
  // `incarnation` (0 for either means unknown: kept). Called when a peer
  // calls with a new incarnation: it restarted, its new swiftd knows
  // nothing of the old connections, and nobody would ever close them
  // (found by the fault tests: a service kept them for good). Returns how
  // many were closed.
  int CloseOlderIncarnations(const std::string& peer, uint64_t incarnation);

  // CloseAbandoned()
  //
  // Closes the connection `peer` asked for as `client_connection_id` and
  // then gave up on before it saw the answer (the link broke): nobody else
  // knows its server id. kNotFound when there is none (the accept never
  // completed here, or it was closed already).
  absl::Status CloseAbandoned(const std::string& peer,
                              uint64_t client_connection_id);

  // The connections the services here ended on their own (the
  // application sent ConnectionClosed, or its channel ended), kept for the
  // swiftds that made them (PeerHandler::Watch collects them).
  ClosedNotices& closed_notices() { return closed_notices_; }

  std::vector<std::string> ServiceNames() const;

  // SetNamesChanged(): `changed` runs (on the channel's thread, no lock
  // held) after a service starts or stops listening here; the cluster
  // directory republishes this host's services. Set it before serving.
  void SetNamesChanged(std::function<void()> changed) {
    names_changed_ = std::move(changed);
  }
  std::vector<ServiceStats> Stats() const;
  const BrokerQuotas& quotas() const { return *quotas_; }

 private:
  // An accept event sent, until its outcome is given.
  struct PendingAccept {
    verbs::QpEndpoint pooled;
    std::string peer;
    uint64_t peer_incarnation = 0;
    uint64_t client_connection_id = 0;
    absl::Time sent_at;
    AcceptDone done;
  };
  struct Service {
    std::string name;
    std::string owner;
    uid_t owner_uid = 0;
    // Owned by the channel's thread (ServeChannel); valid while !closed.
    SeqpacketSocket* channel = nullptr;
    // One ServiceDown message at a time; guards `channel` and `closed`.
    absl::Mutex send_mu;
    bool closed = false;
    std::deque<verbs::QpEndpoint> pool;
    // connection id -> the QP it uses.
    absl::flat_hash_map<uint64_t, uint32_t> connections;
    // Accepts waiting for the application, by id.
    absl::flat_hash_map<uint64_t, PendingAccept> pending;
    uint64_t accepted = 0;
    uint64_t refused = 0;
  };

  absl::Status Register(const std::shared_ptr<Service>& service,
                        const v1::ListenCall& listen);
  // All of `encoded` or none: kInvalidArgument for one that does not
  // decode, kResourceExhausted past a quota.
  absl::Status AddEndpoints(
      Service& service,
      const google::protobuf::RepeatedPtrField<std::string>& encoded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // AddEndpoints() for what the application sent on its channel (an
  // AddEndpoints, or an AcceptReply's replacements); a refusal is sent
  // back to it (EndpointsRefused) and logged once per channel.
  void AddOrRefuse(
      Service& service,
      const google::protobuf::RepeatedPtrField<std::string>& encoded,
      bool* refusal_logged) ABSL_LOCKS_EXCLUDED(mu_);
  void HandleAcceptReply(Service& service, const v1::AcceptReply& reply);
  // The outcome of `service`'s accept `id`, whose application answered
  // `status` (taking `accept_us`) or went away: records the connection,
  // or forgets its QP.
  absl::StatusOr<Accepted> SettleLocked(Service& service, uint64_t id,
                                        const PendingAccept& pending,
                                        const absl::Status& status,
                                        uint32_t accept_us)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The application closed connection `id` of `service` itself.
  void EndByService(Service& service, uint64_t id);
  // Keeps the notice that `id`'s client must hear (mu_ held) and forgets
  // the connection here.
  void NoticeEndedLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unregister(const std::shared_ptr<Service>& service);
  absl::Status SendDown(Service& service, const v1::ServiceDown& message);

  const absl::Duration accept_timeout_;
  std::unique_ptr<BrokerQuotas> own_quotas_;
  BrokerQuotas* const quotas_;
  std::function<void()> names_changed_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Service>> services_
      ABSL_GUARDED_BY(mu_);
  // An accepted connection: its service, and the peer that made it.
  struct ConnectionOwner {
    std::string service;
    std::string peer;
    uint64_t peer_incarnation = 0;
    uint64_t client_connection_id = 0;
  };
  // connection id -> its service and peer.
  absl::flat_hash_map<uint64_t, ConnectionOwner> connection_services_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // The incarnation each peer last called with: CloseOlderIncarnations()
  // scans the connections only when it changes, not on every connect.
  // Bounded by the peers admitted (authenticated and allowed).
  absl::flat_hash_map<std::string, uint64_t> peer_incarnations_
      ABSL_GUARDED_BY(mu_);
  ClosedNotices closed_notices_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_SERVICE_REGISTRY_H_
