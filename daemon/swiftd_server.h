// SwiftdServer: swiftd's caches and its Control API server, started and
// stopped as one unit. main.cc and the tests both run swiftd through it.
//
// Thread-safe: Shutdown() may be called from any thread, more than once.
#ifndef SWIFT_DAEMON_SWIFTD_SERVER_H_
#define SWIFT_DAEMON_SWIFTD_SERVER_H_

#include <grpcpp/server.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/api/client_registry.h"
#include "daemon/api/connect_stats.h"
#include "daemon/api/control_service.h"
#include "daemon/api/fast_path_service.h"
#include "daemon/broker/admission_controller.h"
#include "daemon/broker/broker.h"
#include "daemon/broker/broker_quotas.h"
#include "daemon/broker/peer_directory.h"
#include "daemon/broker/peer_gate.h"
#include "daemon/broker/peer_handler.h"
#include "daemon/broker/peer_link_server.h"
#include "daemon/broker/peer_service.h"
#include "daemon/broker/service_registry.h"
#include "daemon/contexts/context_manager.h"
#include "daemon/devices/device_cache.h"
#include "daemon/devices/device_subscription.h"
#include "daemon/devices/preload_hints_keeper.h"
#include "daemon/directory/directory.h"
#include "daemon/functions/function_store.h"
#include "daemon/functions/worker_manager.h"
#include "daemon/irq/irq_affinity.h"
#include "daemon/leases/lease_manager.h"
#include "daemon/metrics/metrics_address.h"
#include "daemon/metrics/swiftd_metrics.h"
#include "daemon/swiftd_cpus.h"
#include "daemon/transport/fast_path_server.h"
#include "daemon/transport/socket_path.h"

namespace swift {

struct SwiftdOptions {
  // Where the Control API listens.
  std::string socket_path;
  // Who may connect: the socket file's mode and (if not empty) group.
  mode_t socket_mode = 0660;
  std::string socket_group;
  // Use only these RDMA devices (all when empty).
  std::vector<std::string> devices;
  // Where the Peer API listens, "ip:port"; empty: no brokering.
  std::string peer_address;
  // Serve the lean peer link beside the gRPC Peer API (peers then use it
  // for Connect/Close).
  bool peer_link = true;
  // Peer names -> "ip:port", so that clients may connect by name.
  absl::flat_hash_map<std::string, std::string> peers;
  // Who may broker with this swiftd (issue 10 finding 4; see
  // daemon/broker/peer_gate.h): the cluster's secret (the bytes of
  // --peer_secret_file; required with a peer_address unless
  // insecure_peers), the allow-list of peer networks beside the hosts of
  // `peers`, and how far a peer's clock may be off.
  std::string peer_secret;
  bool insecure_peers = false;
  std::vector<std::string> peer_allow;
  absl::Duration peer_auth_max_skew = absl::Seconds(30);
  AdmissionController::Limits admission;
  // What each tenant (uid) may hold: connections, services, pooled
  // endpoints; how long a connect may wait; how many peers swiftd will
  // know (issue 10).
  BrokerQuotas::Limits broker_quotas;
  absl::Duration max_connect_timeout = kMaxHandshakeTimeout;
  int max_peer_entries = 256;
  // How often the peers connections were made with are watched (0: never).
  absl::Duration peer_watch_interval = absl::Seconds(1);
  // How long a listening application may take to accept a connection.
  absl::Duration accept_timeout = absl::Seconds(5);
  // The swift_worker binary functions run in; empty: no function workers.
  std::string worker_binary;
  // Where registered functions are kept so that they survive a restart
  // (FunctionStore); empty: in memory only.
  std::string state_dir;
  // Functions, instances and COLD workers per tenant, workers in all
  // (TenantQuotas, issue 10).
  TenantQuotas::Limits function_quotas;
  // How long a tenant's cold template stays once idle; zero: none
  // (WorkerManager::Options).
  absl::Duration cold_template_idle_timeout = absl::ZeroDuration();
  // Bounds on the fast path and the peer link: connections (in all, per
  // uid), descriptors kept in reserve, deadlines (issue 10).
  FastPathLimits fast_path_limits;
  PeerLinkLimits peer_link_limits;
  // Bounds on the Control API's gRPC server (issue 10).
  ControlApiLimits control_limits;
  // Memory leases (issue 11): quotas per tenant and in all, and the
  // per-tenant pools populated ahead of time (daemon/leases). Its
  // check_device is set by swiftd (the devices it holds).
  LeaseManager::Options leases;
  // Shared device contexts (issue 11: import, where the provider can):
  // kept ready per device, a quota per tenant (daemon/contexts). Its open
  // and check_device are set by swiftd.
  ContextManager::Options contexts;
  // Where Prometheus scrapes swiftd's metrics (daemon/metrics), "ip:port";
  // empty: no metrics. When the exporter cannot listen there, Start()
  // fails if `metrics_required` (the flag was given), else swiftd logs a
  // warning and serves without metrics (the default address taken, e.g.
  // by a second swiftd on the host).
  std::string metrics_address;
  bool metrics_required = true;
  // Pin each RDMA device's completion-vector IRQs to the CPUs whose
  // waiters use them, when root (daemon/irq/irq_affinity.h).
  bool irq_affinity = true;
  // Where swiftd's threads run (--cpus; main.cc applies it at start), and
  // the CPUs the workers it starts get back (empty: swiftd's own).
  CpusSetting cpus;
  CpuSet worker_cpus;
  // The cluster's service directory (daemon/directory): where it is
  // (empty: none), this host's name in it, and its lease's TTL.
  std::string directory;
  std::string host_name;
  absl::Duration directory_ttl = absl::Seconds(2);
  // TLS to etcd, read from --directory_ca_file, --directory_cert_file and
  // --directory_key_file.
  EtcdTls directory_tls;
};

class SwiftdServer final {
 public:
  // Start()
  //
  // Prepares the socket path (removing a stale socket), opens the RDMA
  // devices, pins their completion-vector IRQs when root and irq_affinity
  // (IrqAffinity: never fatal, undone by Shutdown()),
  // serves the Peer API on `peer_address` (if given), and the
  // Control API, gRPC health checking and server
  // reflection on `options.socket_path`, and the fast path beside it
  // (FastPathSocketPath()). With workers and a state_dir, begins
  // restoring the functions stored there (in the background: they do not
  // delay Start()); a state_dir that cannot be used is logged and
  // functions are then kept in memory only. Returns once serving. Fails with
  // kAlreadyExists when another swiftd serves on the path, with the socket
  // preparation's or the device list's error, kNotFound for a device in
  // `devices` that does not exist, or kUnavailable when gRPC cannot listen.
  static absl::StatusOr<std::unique_ptr<SwiftdServer>> Start(
      const SwiftdOptions& options);

  SwiftdServer(const SwiftdServer&) = delete;
  SwiftdServer& operator=(const SwiftdServer&) = delete;
  // Shuts down (grace of one second) if not done already.
  ~SwiftdServer();

  // Shutdown()
  //
  // Stops accepting calls, lets calls in flight finish for up to `grace`,
  // cancels the rest (open Attach streams end here), and removes the socket
  // file. Blocks until done. Later calls do nothing.
  void Shutdown(absl::Duration grace);

  // ApplyLiveOptions()
  //
  // Takes the settings of `next` that change while swiftd runs (a config
  // reload; daemon/config/config_changes.h lists them): the peers' names
  // and the allow-list, handshake admission, and the per-tenant quotas of
  // the broker, the functions and the memory leases. They apply to what is
  // asked from now on (connections made stay). The rest of `next` is
  // ignored: it needs a restart.
  void ApplyLiveOptions(const SwiftdOptions& next);

  const DeviceCache& devices() const { return *devices_; }
  const ClientRegistry& clients() const { return clients_; }
  const ServiceRegistry& services() const { return services_; }
  // The memory leases (null until serving).
  const LeaseManager* leases() const { return leases_.get(); }
  // The shared device contexts (null until serving).
  const ContextManager* contexts() const { return contexts_.get(); }
  // Null when swiftd brokers no peers.
  const Broker* broker() const { return broker_.get(); }
  // Null when swiftd brokers no peers.
  const PeerGate* peer_gate() const { return peer_gate_.get(); }
  // Null without --directory.
  const Directory* directory() const { return directory_.get(); }
  uint64_t incarnation() const { return incarnation_; }
  const std::string& socket_path() const { return options_.socket_path; }
  const std::string& fast_path_socket_path() const { return fast_path_path_; }
  // The port metrics are served on; 0 when they are not.
  uint16_t metrics_port() const {
    return metrics_ == nullptr ? 0 : metrics_->port();
  }

 private:
  SwiftdServer(SwiftdOptions options, SocketLock socket_lock,
               std::unique_ptr<DeviceCache> devices);
  // Builds and starts a gRPC server on `address` ("unix:..." or
  // "ip:port"). For a Unix socket the umask makes the file owner-only from
  // the moment it exists; SecureSocket() then opens it to the configured
  // group. With `limits`, the Control API's bounds are applied.
  static absl::StatusOr<std::unique_ptr<grpc::Server>> Listen(
      const std::string& address, grpc::Service* service,
      const ControlApiLimits* limits = nullptr);

  // Starts the Peer API (if configured), the Control API and the fast path,
  // in these steps, in this order:
  absl::Status StartServing();
  // The metrics address, checked before anything listens (a bad address
  // or a port in use refused at once, naming --metrics_address); nullopt
  // when the default one is taken (metrics off, a warning).
  absl::StatusOr<std::optional<MetricsAddress>> CheckMetricsAddress();
  // swiftd_brokering.cc: the peer gate, the directory, the broker, the
  // Peer API and its link (with a peer address only).
  absl::Status StartBrokering();
  // The function workers (with a worker binary only).
  void StartWorkers();
  absl::Status StartControlApi();
  // swiftd_fast_path.cc: memory leases and shared device contexts, then
  // the fast path that hands them out.
  void StartLeases();
  void StartSharedContexts();
  absl::Status StartFastPath();
  absl::Status ServeMetrics(const MetricsAddress& address);
  // Registered functions kept in the state directory, once the sockets
  // serve (their workers connect to them).
  void RestoreFunctions();

  // swiftd_brokering.cc: this host's record in the cluster directory, from
  // what its Hello says.
  directory::v1::HostRecord DirectoryRecord() const;
  // Reacts to a peer's restart or departure the directory reported.
  void OnDirectoryChange(const DirectoryChange& change);

  // Members in creation order, so they are destroyed in reverse: the server
  // goes before the service, the service before what it reads.
  const SwiftdOptions options_;
  // Declared first among the owners, destroyed last: the socket files are
  // removed (Shutdown) before another swiftd may take the path.
  SocketLock socket_lock_;
  const std::string fast_path_path_;
  const uint64_t incarnation_;
  const absl::Time started_;
  std::unique_ptr<DeviceCache> devices_;
  // The completion-vector IRQs pinned at start (--irq_affinity), restored
  // in Shutdown() (and at destruction, after what reads it is gone).
  std::unique_ptr<IrqAffinity> irq_affinity_;
  // <socket dir>/preload.hints for libswift_preload.so and libswift's cold
  // start; null when it could not be written (a warning, not fatal).
  std::unique_ptr<PreloadHintsKeeper> preload_hints_;
  ClientRegistry clients_;
  // Shared by the service registry and the broker (before both).
  BrokerQuotas broker_quotas_;
  ServiceRegistry services_;
  // Metrics (null without a metrics address): before the broker and the
  // workers, whose observers feed it; its exporter, which reads them all,
  // is stopped first in Shutdown().
  std::unique_ptr<SwiftdMetrics> metrics_;
  // The connects' latencies ListConnections shows, metrics on or off:
  // before the broker, whose on_connected feeds it.
  ConnectStats connect_stats_;
  // Brokering (null without a peer address). The gate first: the
  // directory, the Peer API and the link use it.
  std::unique_ptr<PeerGate> peer_gate_;
  // The cluster directory (null without --directory): before the peer
  // directory and the broker, which ask it; stopped first in Shutdown(),
  // since its listener reaches both.
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<PeerDirectory> peers_;
  std::unique_ptr<AdmissionController> admission_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<PeerHandler> peer_handler_;
  std::unique_ptr<PeerServiceImpl> peer_service_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<PeerLinkServer> peer_link_;
  // Function workers (null without a worker binary), and where their
  // registrations are kept (null without a usable state_dir).
  std::unique_ptr<FunctionStore> function_store_;
  std::unique_ptr<WorkerManager> workers_;
  // Memory leases: before the fast path, which hands them out and
  // reclaims them as its connections end.
  std::unique_ptr<LeaseManager> leases_;
  // Tells leases_ of vanished devices; after it, so it goes first.
  std::unique_ptr<DeviceSubscription> lease_device_watch_;
  // Shared device contexts, and what keeps their pools on the devices
  // that can share (after them, so it goes first).
  std::unique_ptr<ContextManager> contexts_;
  std::unique_ptr<DeviceSubscription> context_device_watch_;
  // Local APIs.
  std::unique_ptr<ControlServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<FastPathService> fast_path_service_;
  std::unique_ptr<FastPathServer> fast_path_server_;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_SWIFTD_SERVER_H_
