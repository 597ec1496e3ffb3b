// swiftd: the per-host Swift daemon.
//
// Opens every RDMA device, serves the Control API on a Unix socket, tells
// systemd when it is ready, and shuts down cleanly on SIGTERM or SIGINT.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/fd_limits.h"
#include "common/version.h"
#include "daemon/broker/peer_authenticator.h"
#include "daemon/swiftd_server.h"
#include "daemon/systemd_notify.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, socket, swift::kDefaultSocketPath,
          "Unix socket the Control API listens on.");
ABSL_FLAG(std::string, socket_mode, "0660",
          "Permission bits (octal) of the socket file: who may connect.");
ABSL_FLAG(std::string, socket_group, "",
          "Group that owns the socket file (e.g. 'swift'); empty keeps "
          "swiftd's own group.");
ABSL_FLAG(std::vector<std::string>, devices, {},
          "Use only these RDMA devices (comma-separated); all when empty.");
ABSL_FLAG(std::string, peer_address, "",
          "Serve the Peer API (brokered connections with other hosts' "
          "swiftds) on this ip:port; empty: no brokering.");
ABSL_FLAG(bool, peer_link, true,
          "Serve the lean TCP peer link beside the gRPC Peer API.");
ABSL_FLAG(std::vector<std::string>, peers, {},
          "Peer names for clients, as name=ip:port (comma-separated).");
ABSL_FLAG(std::string, peer_secret_file, "",
          "The cluster's shared secret: only swiftds holding the same bytes "
          "may broker with this one (Peer API and link). A regular file of "
          "32+ random bytes, owned by swiftd's uid, mode 0600 or 0400; "
          "create it once with 'head -c 32 /dev/urandom > FILE' and copy it "
          "to every host. Required with --peer_address unless "
          "--insecure_peers.");
ABSL_FLAG(bool, insecure_peers, false,
          "Broker with peers WITHOUT authentication (no --peer_secret_file): "
          "for tests and development only; the allow-list still applies.");
ABSL_FLAG(std::vector<std::string>, peer_allow, {},
          "Networks whose swiftds may broker with this one, and the only "
          "hosts a client may make swiftd dial, as CIDRs or addresses "
          "(comma-separated, e.g. 10.77.0.0/24); the hosts of --peers are "
          "always allowed. Loopback is not allowed unless listed.");
ABSL_FLAG(absl::Duration, peer_auth_max_skew, absl::Seconds(30),
          "A peer request stamped further than this from this host's clock "
          "is refused (replay protection; keep the hosts' clocks in sync).");
ABSL_FLAG(std::string, worker_binary, "",
          "The swift_worker binary functions run in; default: swift_worker "
          "beside swiftd (or in worker/ beside it).");
ABSL_FLAG(std::string, state_dir, "/var/lib/swift",
          "Directory (created 0700) where registered functions are kept, so "
          "that swiftd restores them when it restarts; empty: keep them in "
          "memory only.");
// Per-tenant bounds of the function runtime (issue 10): a tenant is the
// uid a function runs as; functions that run as root are exempt from the
// per-tenant ones, not from --max_workers. 0: no limit.
ABSL_FLAG(int, max_functions_per_tenant, 16,
          "Functions one uid may have registered (root exempt); 0: no "
          "limit.");
ABSL_FLAG(int, max_instances_per_tenant, 64,
          "max_instances + spare instances, summed over one uid's functions "
          "(root exempt); 0: no limit.");
ABSL_FLAG(int, max_cold_workers_per_tenant, 4,
          "COLD invocations of one uid's functions running at once, each in "
          "a worker of its own (root exempt); 0: no limit.");
ABSL_FLAG(absl::Duration, cold_template_idle_timeout, absl::Seconds(30),
          "COLD invocations run in a child forked from the tenant's cold "
          "template (one swift_worker --template per uid, gid and memory "
          "limit, started on first use: runtime, device, PD, registered "
          "memory and QPs ready), which is stopped once idle this long; 0: "
          "no templates, every COLD invocation starts a fresh worker.");
ABSL_FLAG(int, max_workers, 256,
          "Function workers in all: one per registered function, plus "
          "registrations being started and COLD invocations; 0: no limit.");
ABSL_FLAG(int, max_handshakes_per_peer, 8,
          "Connection handshakes in flight toward one peer.");
ABSL_FLAG(int, max_handshakes, 32, "Connection handshakes in flight in all.");
ABSL_FLAG(int, max_queued_connects, 4096,
          "Connects waiting for a handshake slot; more are refused.");
// Per-tenant (per-uid) bounds of the broker (issue 10); root is counted,
// not limited. Over a quota, a request fails with RESOURCE_EXHAUSTED
// naming the flag.
ABSL_FLAG(int, max_handshakes_per_tenant, 8,
          "Connection handshakes in flight of one uid (root exempt); more "
          "wait for a slot, so that one tenant cannot take them all.");
ABSL_FLAG(absl::Duration, max_connect_timeout, absl::Seconds(30),
          "The longest a connect may wait (its timeout_ms is clamped).");
ABSL_FLAG(int64_t, max_connections_per_tenant, 4096,
          "Brokered connections one uid may hold (root exempt).");
ABSL_FLAG(int64_t, max_services_per_tenant, 128,
          "Services one uid may listen on at once (root exempt).");
ABSL_FLAG(int64_t, max_pooled_endpoints_per_tenant, 16384,
          "Endpoints (pooled QPs) one uid's services may advertise in all "
          "(root exempt).");
ABSL_FLAG(int64_t, max_pooled_endpoints_per_service, 4096,
          "Endpoints (pooled QPs) one service may advertise.");
ABSL_FLAG(int, max_peer_entries, 256,
          "Peers (other hosts' swiftds) swiftd will know; a connect to a "
          "new host beyond it is refused. Peers in --peers always count as "
          "reachable.");
ABSL_FLAG(int, max_fast_path_connections, 1024,
          "Fast path connections served at once; more are refused "
          "(RESOURCE_EXHAUSTED). Each costs a thread and a descriptor.");
ABSL_FLAG(int, max_fast_path_connections_per_uid, 256,
          "Fast path connections of one uid at once (root exempt); 0: no "
          "per-uid cap.");
ABSL_FLAG(int, max_peer_link_connections, 256,
          "Peer link connections served at once; more are refused.");
ABSL_FLAG(int, max_attach_streams, 1024,
          "Control API (gRPC) Attach streams open at once, all clients "
          "together; more are refused (RESOURCE_EXHAUSTED).");
ABSL_FLAG(int, grpc_max_streams_per_connection, 100,
          "Concurrent calls per Control API (gRPC) connection; a client's "
          "extra calls wait in the client.");
ABSL_FLAG(absl::Duration, grpc_max_connection_idle, absl::Minutes(5),
          "A Control API (gRPC) connection with no call in progress is "
          "closed after this.");
ABSL_FLAG(int, grpc_memory_quota_mb, 256,
          "Memory the Control API's gRPC server may use; beyond it gRPC "
          "refuses new calls (RESOURCE_EXHAUSTED).");
ABSL_FLAG(int, grpc_max_threads, 64,
          "Threads the Control API's gRPC server may start.");
ABSL_FLAG(int, connection_fd_reserve, swift::kDefaultFdReserve,
          "The fast path and the peer link refuse new connections while "
          "fewer file descriptors than this remain, keeping them for the "
          "Control API and the broker.");
ABSL_FLAG(absl::Duration, hello_timeout, absl::Seconds(10),
          "A fast path or peer link connection that says nothing for this "
          "long after connecting is closed.");
ABSL_FLAG(absl::Duration, peer_link_idle_timeout, absl::Seconds(120),
          "An idle peer link connection is closed after this; keep it "
          "longer than peers keep idle connections (60 s).");
// Memory leases (issue 11, daemon/leases): populated memfds handed to
// clients on the fast path. Over a quota, a lease fails with
// RESOURCE_EXHAUSTED naming the flag; root is counted, not limited per
// tenant. 0: no limit.
ABSL_FLAG(int64_t, max_leases_per_tenant, 64,
          "Memory leases one uid may hold at once (root exempt).");
ABSL_FLAG(uint64_t, max_lease_bytes_per_tenant, uint64_t{1} << 30,
          "Bytes of memory leases (and of its pool, populated ahead of "
          "time) one uid may hold (root exempt).");
ABSL_FLAG(uint64_t, max_lease_bytes_total, uint64_t{4} << 30,
          "Bytes of memory leases and pools of all tenants together.");
ABSL_FLAG(uint64_t, lease_pool_region_bytes, uint64_t{4} << 20,
          "Size of each region a tenant's pool populates ahead of time; "
          "leases up to this size come from the pool, larger ones are "
          "populated on demand.");
ABSL_FLAG(int, lease_pool_regions_per_tenant, 2,
          "Regions kept populated per tenant that leases (refilled in the "
          "background); 0: no pools.");
ABSL_FLAG(bool, lease_hugepages, true,
          "Back leases of a huge page or more with huge pages "
          "(MFD_HUGETLB) when the host has them free; normal pages "
          "otherwise (swiftctl leases shows which).");
ABSL_FLAG(absl::Duration, lease_pool_idle_timeout, absl::Minutes(5),
          "A tenant's pool is freed after this long unused while the "
          "tenant holds no leases.");
// Metrics (issue 15, daemon/metrics): loopback by default, because they
// name tenants (uids), functions and services; port 7473 is near the peer
// port of the README (7471; 7472 is the benchmarks' rdma_cm port):
// Prometheus' exporter range 9100-9999 is fully allocated, and 9464
// (OpenTelemetry's exporter) may be taken on the same host.
ABSL_FLAG(std::string, metrics_address, "auto",
          "Serve Prometheus metrics (GET /metrics) on this ip:port; an "
          "address swiftd cannot listen on (port in use, not this host's) "
          "stops it from starting. \"auto\": 127.0.0.1:7473, and when that "
          "is taken (a second swiftd on the host) swiftd warns and runs "
          "without metrics. Empty: no metrics.");

namespace {

// Signals that stop swiftd. They are blocked in every thread (gRPC's
// threads inherit the mask) and taken synchronously by the main thread, so
// shutdown runs in ordinary code, not in a signal handler.
sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

int WaitForStopSignal(const sigset_t& signals) {
  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  return signal_number;
}

// Takes the stop signals from the moment they are blocked, so that a stop
// request is honoured even while start-up is stuck (a state directory on a
// hung file system, a device that does not answer): then the process dies
// of the signal at once, as it would with the default disposition, and
// the next swiftd cleans up whatever socket file is left. Once swiftd
// serves, Wait() hands the signal to the main thread for a clean shutdown.
class StopSignalWaiter {
 public:
  explicit StopSignalWaiter(sigset_t signals)
      : signals_(signals), thread_([this] { Run(); }) {}
  ~StopSignalWaiter() { thread_.join(); }

  // Start-up is over: a stop signal from now on shuts down cleanly.
  void Serving() {
    absl::MutexLock lock(&mu_);
    serving_ = true;
  }

  // Blocks until a stop signal arrives; returns it.
  int Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* signal_number) { return *signal_number != 0; },
        &signal_number_));
    return signal_number_;
  }

 private:
  void Run() {
    const int signal_number = WaitForStopSignal(signals_);
    absl::MutexLock lock(&mu_);
    if (!serving_) {
      LOG(WARNING) << "Received " << strsignal(signal_number)
                   << " while starting; stopping now";
      google::FlushLogFiles(google::INFO);
      signal(signal_number, SIG_DFL);
      pthread_sigmask(SIG_UNBLOCK, &signals_, nullptr);
      raise(signal_number);
      _exit(128 + signal_number);  // Not reached: the signal kills us.
    }
    signal_number_ = signal_number;
  }

  const sigset_t signals_;
  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  int signal_number_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// swift_worker beside this binary (installed), or in worker/ beside it (a
// Bazel tree); empty when neither exists.
std::string DefaultWorkerBinary() {
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) {
    return "";
  }
  std::string directory(self, length);
  directory.resize(directory.rfind('/'));
  for (const char* candidate : {"/swift_worker", "/worker/swift_worker"}) {
    const std::string path = directory + candidate;
    if (access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return "";
}

void Notify(const std::string& state) {
  if (absl::Status status = swift::NotifySystemd(state); !status.ok()) {
    LOG(WARNING) << "Cannot notify systemd: " << status;
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "swiftd: the Swift RDMA control-plane daemon.\n"
      "Usage: swiftd [--socket=PATH] [--socket_mode=0660] [--socket_group=G]\n"
      "              [--devices=rxe0] [--peer_address=IP:PORT]\n"
      "              [--peers=name=IP:PORT,...] [--state_dir=DIR]\n"
      "              [--peer_secret_file=FILE] [--peer_allow=CIDR,...]\n"
      "Logging: GLOG_v=1 for per-request logs, GLOG_log_dir=DIR for files.");
  absl::ParseCommandLine(argc, argv);
  if (std::getenv("GLOG_log_dir") == nullptr) {
    FLAGS_logtostderr = true;  // systemd's journal collects stderr.
  }
  google::InitGoogleLogging(argv[0]);

  const std::string mode_text = absl::GetFlag(FLAGS_socket_mode);
  char* mode_end = nullptr;
  const unsigned long mode = std::strtoul(mode_text.c_str(), &mode_end, 8);
  if (mode_text.empty() || *mode_end != '\0' || mode > 0777) {
    LOG(ERROR) << "--socket_mode must be octal permission bits like 0660, got '"
               << absl::GetFlag(FLAGS_socket_mode) << "'";
    return 2;
  }

  const sigset_t stop_signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  LOG(INFO) << "swiftd " << swift::kSwiftVersion << " starting (Control API v"
            << swift::kControlApiVersion << ")";
  swift::SwiftdOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.socket_mode = static_cast<mode_t>(mode);
  options.socket_group = absl::GetFlag(FLAGS_socket_group);
  options.devices = absl::GetFlag(FLAGS_devices);
  options.peer_address = absl::GetFlag(FLAGS_peer_address);
  options.worker_binary = absl::GetFlag(FLAGS_worker_binary);
  options.peer_link = absl::GetFlag(FLAGS_peer_link);
  options.state_dir = absl::GetFlag(FLAGS_state_dir);
  {
    const int functions = absl::GetFlag(FLAGS_max_functions_per_tenant);
    const int instances = absl::GetFlag(FLAGS_max_instances_per_tenant);
    const int cold = absl::GetFlag(FLAGS_max_cold_workers_per_tenant);
    const int workers = absl::GetFlag(FLAGS_max_workers);
    if (functions < 0 || instances < 0 || cold < 0 || workers < 0) {
      LOG(ERROR) << "--max_functions_per_tenant, --max_instances_per_tenant, "
                    "--max_cold_workers_per_tenant and --max_workers must be "
                    "at least 0 (0: no limit)";
      return 2;
    }
    options.function_quotas.max_functions_per_tenant = functions;
    options.function_quotas.max_instances_per_tenant = instances;
    options.function_quotas.max_cold_workers_per_tenant = cold;
    options.function_quotas.max_workers = workers;
  }
  if (options.worker_binary.empty()) {
    options.worker_binary = DefaultWorkerBinary();
  }
  options.cold_template_idle_timeout =
      absl::GetFlag(FLAGS_cold_template_idle_timeout);
  if (options.cold_template_idle_timeout < absl::ZeroDuration()) {
    LOG(ERROR) << "--cold_template_idle_timeout must be at least 0 (0: no "
                  "cold templates)";
    return 2;
  }
  options.insecure_peers = absl::GetFlag(FLAGS_insecure_peers);
  options.peer_allow = absl::GetFlag(FLAGS_peer_allow);
  options.peer_auth_max_skew = absl::GetFlag(FLAGS_peer_auth_max_skew);
  if (options.peer_auth_max_skew <= absl::ZeroDuration()) {
    LOG(ERROR) << "--peer_auth_max_skew must be positive";
    return 2;
  }
  if (const std::string secret_file = absl::GetFlag(FLAGS_peer_secret_file);
      !secret_file.empty()) {
    absl::StatusOr<std::string> secret =
        swift::PeerAuthenticator::ReadSecretFile(secret_file);
    if (!secret.ok()) {
      LOG(ERROR) << "--peer_secret_file: " << secret.status().message();
      return 2;
    }
    options.peer_secret = *std::move(secret);
  }
  for (const std::string& peer : absl::GetFlag(FLAGS_peers)) {
    const size_t equals = peer.find('=');
    if (equals == std::string::npos || equals == 0 ||
        equals + 1 == peer.size()) {
      LOG(ERROR) << "--peers entries are name=ip:port, got '" << peer << "'";
      return 2;
    }
    options.peers[peer.substr(0, equals)] = peer.substr(equals + 1);
  }
  options.admission.per_peer = absl::GetFlag(FLAGS_max_handshakes_per_peer);
  options.admission.total = absl::GetFlag(FLAGS_max_handshakes);
  options.admission.max_queued = absl::GetFlag(FLAGS_max_queued_connects);
  if (options.admission.per_peer < 1 || options.admission.total < 1 ||
      options.admission.max_queued < 0) {
    LOG(ERROR) << "--max_handshakes_per_peer and --max_handshakes must be "
                  "at least 1, --max_queued_connects at least 0";
    return 2;
  }
  options.admission.per_tenant = absl::GetFlag(FLAGS_max_handshakes_per_tenant);
  options.max_connect_timeout = absl::GetFlag(FLAGS_max_connect_timeout);
  options.max_peer_entries = absl::GetFlag(FLAGS_max_peer_entries);
  options.broker_quotas.connections =
      absl::GetFlag(FLAGS_max_connections_per_tenant);
  options.broker_quotas.services = absl::GetFlag(FLAGS_max_services_per_tenant);
  options.broker_quotas.pooled_endpoints =
      absl::GetFlag(FLAGS_max_pooled_endpoints_per_tenant);
  options.broker_quotas.pooled_endpoints_per_service =
      absl::GetFlag(FLAGS_max_pooled_endpoints_per_service);
  if (options.admission.per_tenant < 1 ||
      options.max_connect_timeout <= absl::ZeroDuration() ||
      options.max_peer_entries < 1 || options.broker_quotas.connections < 0 ||
      options.broker_quotas.services < 0 ||
      options.broker_quotas.pooled_endpoints < 0 ||
      options.broker_quotas.pooled_endpoints_per_service < 0) {
    LOG(ERROR) << "--max_handshakes_per_tenant and --max_peer_entries must be "
                  "at least 1, --max_connect_timeout positive, the per-tenant "
                  "quotas at least 0";
    return 2;
  }
  options.fast_path_limits.max_connections =
      absl::GetFlag(FLAGS_max_fast_path_connections);
  options.fast_path_limits.max_connections_per_uid =
      absl::GetFlag(FLAGS_max_fast_path_connections_per_uid);
  options.peer_link_limits.max_connections =
      absl::GetFlag(FLAGS_max_peer_link_connections);
  options.fast_path_limits.fd_reserve = options.peer_link_limits.fd_reserve =
      absl::GetFlag(FLAGS_connection_fd_reserve);
  options.fast_path_limits.hello_timeout = absl::GetFlag(FLAGS_hello_timeout);
  options.peer_link_limits.hello_timeout = absl::GetFlag(FLAGS_hello_timeout);
  options.peer_link_limits.idle_timeout =
      absl::GetFlag(FLAGS_peer_link_idle_timeout);
  if (options.fast_path_limits.max_connections < 1 ||
      options.fast_path_limits.max_connections_per_uid < 0 ||
      options.peer_link_limits.max_connections < 1 ||
      options.fast_path_limits.fd_reserve < 0 ||
      options.fast_path_limits.hello_timeout <= absl::ZeroDuration() ||
      options.peer_link_limits.idle_timeout <= absl::ZeroDuration()) {
    LOG(ERROR) << "--max_fast_path_connections and --max_peer_link_connections "
                  "must be at least 1, --max_fast_path_connections_per_uid and "
                  "--connection_fd_reserve at least 0, --hello_timeout and "
                  "--peer_link_idle_timeout positive";
    return 2;
  }
  options.control_limits.max_attach_streams =
      absl::GetFlag(FLAGS_max_attach_streams);
  options.control_limits.max_streams_per_connection =
      absl::GetFlag(FLAGS_grpc_max_streams_per_connection);
  options.control_limits.max_connection_idle =
      absl::GetFlag(FLAGS_grpc_max_connection_idle);
  options.control_limits.memory_quota_bytes =
      int64_t{absl::GetFlag(FLAGS_grpc_memory_quota_mb)} << 20;
  options.control_limits.max_threads = absl::GetFlag(FLAGS_grpc_max_threads);
  if (options.control_limits.max_attach_streams < 1 ||
      options.control_limits.max_streams_per_connection < 1 ||
      options.control_limits.max_connection_idle <= absl::ZeroDuration() ||
      options.control_limits.memory_quota_bytes < (int64_t{16} << 20) ||
      options.control_limits.max_threads < 2) {
    LOG(ERROR) << "--max_attach_streams and "
                  "--grpc_max_streams_per_connection must be at least 1, "
                  "--grpc_max_connection_idle positive, "
                  "--grpc_memory_quota_mb at least 16, --grpc_max_threads at "
                  "least 2";
    return 2;
  }
  options.leases.quotas.leases_per_tenant =
      absl::GetFlag(FLAGS_max_leases_per_tenant);
  options.leases.quotas.bytes_per_tenant =
      absl::GetFlag(FLAGS_max_lease_bytes_per_tenant);
  options.leases.quotas.bytes_total = absl::GetFlag(FLAGS_max_lease_bytes_total);
  options.leases.pools.region_bytes =
      absl::GetFlag(FLAGS_lease_pool_region_bytes);
  options.leases.pools.regions_per_tenant =
      absl::GetFlag(FLAGS_lease_pool_regions_per_tenant);
  options.leases.pools.try_hugepages = absl::GetFlag(FLAGS_lease_hugepages);
  options.leases.pools.idle_timeout =
      absl::GetFlag(FLAGS_lease_pool_idle_timeout);
  if (options.leases.quotas.leases_per_tenant < 0 ||
      options.leases.pools.regions_per_tenant < 0 ||
      options.leases.pools.region_bytes == 0 ||
      options.leases.pools.idle_timeout <= absl::ZeroDuration()) {
    LOG(ERROR) << "--max_leases_per_tenant and "
                  "--lease_pool_regions_per_tenant must be at least 0, "
                  "--lease_pool_region_bytes at least 1, "
                  "--lease_pool_idle_timeout positive";
    return 2;
  }
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.metrics_required = options.metrics_address != "auto";
  if (!options.metrics_required) {
    options.metrics_address = "127.0.0.1:7473";
  }
  // The descriptor reserve only helps if the limit is as high as allowed.
  if (absl::StatusOr<uint64_t> fds = swift::RaiseFdSoftLimit(); fds.ok()) {
    LOG(INFO) << "File descriptor limit: " << *fds;
  } else {
    LOG(WARNING) << "Cannot raise the file descriptor limit: " << fds.status();
  }
  StopSignalWaiter stop(stop_signals);
  absl::StatusOr<std::unique_ptr<swift::SwiftdServer>> swiftd =
      swift::SwiftdServer::Start(options);
  if (!swiftd.ok()) {
    LOG(ERROR) << "swiftd cannot start: " << swiftd.status();
    Notify(absl::StrCat("STATUS=Failed to start: ", swiftd.status().message()));
    _exit(1);  // The signal waiter thread still waits: do not join it.
  }
  stop.Serving();
  Notify(absl::StrCat("READY=1\nSTATUS=Serving on ", options.socket_path,
                      " with ", (*swiftd)->devices().open_count(),
                      " RDMA device(s)\nMAINPID=", getpid()));

  const int signal_number = stop.Wait();
  LOG(INFO) << "Received " << strsignal(signal_number) << "; shutting down";
  Notify("STOPPING=1");
  (*swiftd)->Shutdown(absl::Seconds(2));
  swiftd->reset();
  LOG(INFO) << "swiftd stopped";
  return 0;
}
