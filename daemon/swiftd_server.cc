// SwiftdServer implementation; see swiftd_server.h.
#include "daemon/swiftd_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unix_socket.h"
#include "common/version.h"
#include "daemon/devices/hello_port_address.h"
#include "daemon/devices/irq_map.h"
#include "daemon/transport/socket_path.h"
#include "glog/logging.h"

namespace swift {
namespace {

// Builds and starts a gRPC server on `address` ("unix:..." or "ip:port").
// For a Unix socket the umask makes the file owner-only from the moment it
// exists; SecureSocket() then opens it to the configured group.
// With `limits`, the Control API's bounds are applied.
absl::StatusOr<std::unique_ptr<grpc::Server>> Listen(
    const std::string& address, grpc::Service* service,
    const ControlApiLimits* limits = nullptr) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int selected_port = 0;
  // Access control on the Unix socket is the file's mode and group; the
  // Peer API trusts the hosts' network (as rdma_cm does).
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(),
                           &selected_port);
  builder.RegisterService(service);
  if (limits != nullptr) {
    ConfigureControlServer(*limits, &builder);
  }
  const mode_t old_umask = umask(0177);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  umask(old_umask);
  if (server == nullptr || selected_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("gRPC could not listen on ", address,
                     " (see the log lines above for gRPC's reason)"));
  }
  return server;
}

uint64_t RandomIncarnation() {
  std::random_device random;
  uint64_t value = 0;
  while (value == 0) {
    value = (static_cast<uint64_t>(random()) << 32) | random();
  }
  return value;
}

// This host as the Peer API describes it: each device's RoCE v2 IPv4 GID.
std::vector<peer::v1::PeerDevice> PeerDevices(const DeviceCache& cache) {
  std::vector<peer::v1::PeerDevice> devices;
  for (const DeviceCache::Entry& entry : cache.entries()) {
    if (!entry.error.ok() || entry.info.ports.empty()) {
      continue;
    }
    peer::v1::PeerDevice device;
    device.set_name(entry.name);
    device.set_active_mtu_bytes(entry.info.ports[0].active_mtu_bytes);
    for (const verbs::GidInfo& gid : entry.info.ports[0].gids) {
      if (gid.type == "RoCE v2" && gid.ipv4_mapped) {
        device.set_gid(gid.gid);
        break;
      }
    }
    devices.push_back(device);
  }
  return devices;
}

// The open devices as IrqAffinity needs them.
std::vector<IrqDevice> IrqDevices(const DeviceCache& cache) {
  std::vector<IrqDevice> devices;
  for (const DeviceRecord& record : cache.Snapshot()) {
    if (record.state == DeviceState::kOpen) {
      devices.push_back({record.name, ParentBusAddress(record.name),
                         record.info.num_comp_vectors});
    }
  }
  return devices;
}

// This host's name in the directory: --host_name, else the kernel's.
std::string HostName(const std::string& configured) {
  if (!configured.empty()) return configured;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

std::string FirstOpenDevice(const DeviceCache& cache) {
  for (const DeviceCache::Entry& entry : cache.entries()) {
    if (entry.error.ok()) {
      return entry.name;
    }
  }
  return "";
}

}  // namespace

SwiftdServer::SwiftdServer(SwiftdOptions options, SocketLock socket_lock,
                           std::unique_ptr<DeviceCache> devices)
    : options_(std::move(options)),
      socket_lock_(std::move(socket_lock)),
      fast_path_path_(FastPathSocketPath(options_.socket_path)),
      incarnation_(RandomIncarnation()),
      started_(absl::Now()),
      devices_(std::move(devices)),
      broker_quotas_(options_.broker_quotas),
      services_(options_.accept_timeout, &broker_quotas_) {}

absl::StatusOr<std::unique_ptr<SwiftdServer>> SwiftdServer::Start(
    const SwiftdOptions& options) {
  // Held until this swiftd is destroyed, after it removed its sockets.
  SWIFT_ASSIGN_OR_RETURN(SocketLock socket_lock,
                         SocketLock::Acquire(options.socket_path));
  SWIFT_RETURN_IF_ERROR(PrepareSocketPath(options.socket_path));
  SWIFT_RETURN_IF_ERROR(
      PrepareSocketPath(FastPathSocketPath(options.socket_path)));
  SWIFT_ASSIGN_OR_RETURN(std::unique_ptr<DeviceCache> devices,
                         DeviceCache::OpenAll(options.devices));
  std::unique_ptr<SwiftdServer> swiftd(
      new SwiftdServer(options, std::move(socket_lock), std::move(devices)));
  IrqAffinityOptions irq_options;
  irq_options.enabled = options.irq_affinity;
  irq_options.privileged = geteuid() == 0;
  swiftd->irq_affinity_ =
      IrqAffinity::Apply(IrqDevices(*swiftd->devices_), irq_options);
  absl::StatusOr<std::unique_ptr<PreloadHintsKeeper>> hints =
      PreloadHintsKeeper::Start(PreloadHintsPath(options.socket_path),
                                &swiftd->devices_->table());
  if (hints.ok()) {
    swiftd->preload_hints_ = *std::move(hints);
  } else {
    LOG(WARNING) << "No preload hints (new processes load every provider): "
                 << hints.status();
  }
  if (absl::Status status = swiftd->StartServing(); !status.ok()) {
    swiftd->Shutdown(absl::ZeroDuration());
    return status;
  }
  LOG(INFO) << "Serving the Control API on unix:" << options.socket_path
            << " with " << swiftd->devices_->open_count() << " device(s)"
            << (options.peer_address.empty()
                    ? std::string(", brokering no peers")
                    : absl::StrCat(", Peer API on ", options.peer_address))
            << ", incarnation " << swiftd->incarnation_;
  return swiftd;
}

absl::Status SwiftdServer::StartServing() {
  std::optional<MetricsAddress> metrics_address;
  if (!options_.metrics_address.empty()) {
    // Checked before anything listens: a bad address or a port in use is
    // refused at once, naming --metrics_address.
    SWIFT_ASSIGN_OR_RETURN(metrics_address,
                           ParseMetricsAddress(options_.metrics_address));
    if (absl::Status free = CheckCanListen(*metrics_address); !free.ok()) {
      if (options_.metrics_required) {
        return free;
      }
      LOG(WARNING) << "Serving no metrics: " << free.message()
                   << " (that is the default --metrics_address: give one, "
                      "or an empty one to turn metrics off)";
      metrics_address.reset();
    } else {
      metrics_ = std::make_unique<SwiftdMetrics>();
    }
  }
  if (!options_.peer_address.empty()) {
    PeerGateOptions gate_options;
    gate_options.secret = options_.peer_secret;
    gate_options.insecure = options_.insecure_peers;
    gate_options.allow = options_.peer_allow;
    for (const auto& [name, address] : options_.peers) {
      gate_options.named_peers.push_back(address);
    }
    gate_options.max_skew = options_.peer_auth_max_skew;
    SWIFT_ASSIGN_OR_RETURN(peer_gate_, PeerGate::Create(gate_options));
    if (peer_gate_->secure()) {
      LOG(INFO) << "Peers must hold the cluster's secret (fingerprint "
                << peer_gate_->authenticator()->Fingerprint()
                << ") and be in the allow-list: "
                << peer_gate_->allow_list().ToString();
    } else {
      LOG(WARNING) << "--insecure_peers: brokering WITHOUT authentication "
                      "with any host in the allow-list: "
                   << peer_gate_->allow_list().ToString();
    }
    if (!options_.directory.empty()) {
      DirectoryOptions directory_options;
      SWIFT_ASSIGN_OR_RETURN(directory_options.url,
                             ParseDirectoryUrl(options_.directory));
      directory_options.host_name = HostName(options_.host_name);
      if (!IsValidDirectoryHostName(directory_options.host_name)) {
        // Only the kernel's can be: --host_name was checked with the config.
        return absl::InvalidArgumentError(absl::StrCat(
            "this host's name '", directory_options.host_name,
            "' cannot name it in the directory (letters, digits, '-', '.', "
            "'_'): give --host_name"));
      }
      directory_options.ttl = options_.directory_ttl;
      directory_options.tls = options_.directory_tls;
      directory_ = std::make_unique<Directory>(
          directory_options, [this] { return DirectoryRecord(); },
          [this](const DirectoryChange& change) { OnDirectoryChange(change); });
    }
    peers_ = std::make_unique<PeerDirectory>(
        incarnation_, options_.peer_address, options_.peers, peer_gate_.get(),
        directory_.get());
    admission_ = std::make_unique<AdmissionController>(options_.admission);
    Broker::Options broker_options;
    broker_options.max_timeout = options_.max_connect_timeout;
    broker_options.max_peer_entries = options_.max_peer_entries;
    broker_options.watch_interval = options_.peer_watch_interval;
    broker_options.quotas = &broker_quotas_;
    broker_options.resolver = directory_.get();
    broker_options.on_connected = [this, metrics = metrics_.get()](
                                      uid_t uid,
                                      const v1::ConnectResult& result) {
      connect_stats_.Record(uid, absl::Microseconds(result.broker_us()));
      if (metrics != nullptr) {
        metrics->connects().Observe(result);
      }
    };
    broker_ = std::make_unique<Broker>(peers_.get(), admission_.get(),
                                       broker_options);
    peer_handler_ =
        std::make_unique<PeerHandler>(incarnation_, options_.peer_address,
                                      PeerDevices(*devices_), &services_);
    peer_service_ = std::make_unique<PeerServiceImpl>(peer_handler_.get(),
                                                      peer_gate_.get());
    if (options_.peer_link) {
      // Before the Peer API serves: every Hello must announce the link.
      SWIFT_ASSIGN_OR_RETURN(HostPort link_address,
                             ParseHostPort(options_.peer_address));
      SWIFT_ASSIGN_OR_RETURN(
          peer_link_,
          PeerLinkServer::Start(link_address, peer_handler_.get(),
                                peer_gate_.get(), options_.peer_link_limits));
      peer_handler_->set_link_port(peer_link_->port());
      LOG(INFO) << "Serving the peer link on " << link_address.host << ":"
                << peer_link_->port();
    }
    SWIFT_ASSIGN_OR_RETURN(peer_server_,
                           Listen(options_.peer_address, peer_service_.get()));
    if (directory_ != nullptr) {
      // Once the Peer API and the link serve: whoever reads the record may
      // dial them at once. Services follow as they come and go.
      services_.SetNamesChanged([this] { directory_->Republish(); });
      directory_->Start();
      LOG(INFO) << "Registering as " << directory_->options().host_name
                << " in the directory " << options_.directory;
    }
  }

  if (!options_.worker_binary.empty()) {
    WorkerManager::Options worker_options;
    worker_options.worker_binary = options_.worker_binary;
    worker_options.swiftd_socket = options_.socket_path;
    worker_options.quotas = options_.function_quotas;
    worker_options.cold_template_idle_timeout =
        options_.cold_template_idle_timeout;
    if (!options_.state_dir.empty()) {
      absl::StatusOr<std::unique_ptr<FunctionStore>> store =
          FunctionStore::Open(options_.state_dir);
      if (store.ok()) {
        function_store_ = *std::move(store);
      } else {
        // Not fatal: swiftd still serves; only restarts lose functions.
        LOG(ERROR) << "Registered functions will not survive a restart of "
                      "swiftd: cannot use the state directory (--state_dir): "
                   << store.status();
      }
    }
    worker_options.store = function_store_.get();
    if (metrics_ != nullptr) {
      worker_options.observers.on_invoked =
          [metrics = metrics_.get()](const std::string& function,
                                     v1::InvokeRequest::Mode mode,
                                     const absl::Status& result,
                                     absl::Duration elapsed) {
            metrics->functions().ObserveInvocation(function, mode, result,
                                                   elapsed);
          };
      worker_options.observers.on_worker_started =
          [metrics = metrics_.get()](const char* reason) {
            metrics->functions().CountWorkerStarted(reason);
          };
    }
    workers_ = std::make_unique<WorkerManager>(worker_options);
  }

  ControlServiceImpl::Sources sources;
  sources.devices = devices_.get();
  sources.clients = &clients_;
  sources.peers = peers_.get();
  sources.socket_path = options_.socket_path;
  sources.peer_address = options_.peer_address;
  sources.incarnation = incarnation_;
  sources.gate = peer_gate_.get();
  sources.max_attach_streams = options_.control_limits.max_attach_streams;
  sources.irqs = irq_affinity_.get();
  sources.directory = directory_.get();
  service_ = std::make_unique<ControlServiceImpl>(std::move(sources));
  SWIFT_ASSIGN_OR_RETURN(
      server_, Listen("unix:" + options_.socket_path, service_.get(),
                      &options_.control_limits));

  LeaseManager::Options lease_options = options_.leases;
  lease_options.check_device = [this](const std::string& device) {
    // The table, not the devices opened at start: it knows what vanished.
    const std::optional<DeviceRecord> record = devices_->table().Find(device);
    if (!record.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("lease: swiftd holds no RDMA device '", device,
                       "' (see swiftctl devices)"));
    }
    if (record->state == DeviceState::kOpen) {
      return absl::OkStatus();
    }
    return absl::Status(
        record->state == DeviceState::kRemoved
            ? absl::StatusCode::kUnavailable
            : absl::StatusCode::kFailedPrecondition,
        absl::StrCat("lease: RDMA device ", device,
                     " is not usable: ", record->error.message()));
  };
  leases_ = std::make_unique<LeaseManager>(std::move(lease_options));
  // Leases taken for a device that vanishes are marked for their holders
  // (LeaseManager::Check, swiftctl leases).
  lease_device_watch_ = std::make_unique<DeviceSubscription>(
      &devices_->table(), [leases = leases_.get()](const DeviceChange& change) {
        if (change.state == DeviceState::kRemoved) {
          leases->DeviceRemoved(change.device, change.what);
        }
      });
  fast_path_service_ = std::make_unique<FastPathService>(
      broker_.get(), workers_.get(), &services_, &connect_stats_);
  FastPathServer::Handlers handlers;
  handlers.call = [this](const FastPathCaller& caller,
                         const v1::FastRequest& request) {
    return fast_path_service_->Handle(caller, request);
  };
  fast_path_service_->SetLeases(leases_.get(), &clients_);
  fast_path_service_->SetDevices(devices_.get());
  handlers.call_with_fds = [this](const FastPathCaller& caller,
                                  const v1::FastRequest& request,
                                  std::vector<UniqueFd>* fds) {
    return fast_path_service_->HandleWithFds(caller, request, fds);
  };
  handlers.greeted = [this](const FastPathCaller& caller,
                            v1::FastHello::Channel kind) {
    fast_path_service_->Attached(caller, kind);
  };
  handlers.ended = [this](const FastPathCaller& caller,
                          v1::FastHello::Channel) {
    fast_path_service_->Detached(caller);
  };
  handlers.service = [this](SeqpacketSocket channel,
                            const FastPathCaller& caller) {
    services_.ServeChannel(std::move(channel), caller);
  };
  if (workers_ != nullptr) {
    handlers.function_channel = [this](const SeqpacketSocket& channel,
                                       const FastPathCaller& caller,
                                       const std::string& function) {
      return fast_path_service_->AttachFunctionChannel(channel, caller,
                                                       function);
    };
  }
  if (broker_ != nullptr) {
    handlers.disconnected = [this](const FastPathCaller& caller) {
      broker_->CloseAllOf(caller.channel_id);
    };
  }
  handlers.peer_address = options_.peer_address;
  handlers.device = FirstOpenDevice(*devices_);
  handlers.port_address = [this, device = handlers.device] {
    return HelloPortAddress(devices_->table(), device);
  };
  SWIFT_ASSIGN_OR_RETURN(
      fast_path_server_,
      FastPathServer::Start(fast_path_path_, options_.socket_mode,
                            std::move(handlers), options_.fast_path_limits));
  SWIFT_RETURN_IF_ERROR(SecureSocket(options_.socket_path, options_.socket_mode,
                                     options_.socket_group));
  SWIFT_RETURN_IF_ERROR(SecureSocket(fast_path_path_, options_.socket_mode,
                                     options_.socket_group));
  if (metrics_ != nullptr) {
    SwiftdMetrics::Sources sources;
    sources.devices = &devices_->table();
    sources.broker = broker_.get();
    sources.services = &services_;
    sources.clients = &clients_;
    sources.leases = leases_.get();
    sources.workers = workers_.get();
    sources.directory = directory_.get();
    absl::Status serving = metrics_->Serve(*metrics_address, sources);
    if (!serving.ok() && options_.metrics_required) {
      return serving;
    }
    if (serving.ok()) {
      LOG(INFO) << "Serving Prometheus metrics on http://"
                << metrics_address->ip << ":" << metrics_->port()
                << "/metrics";
    } else {
      LOG(WARNING) << "Serving no metrics: " << serving.message();
    }
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  if (function_store_ != nullptr) {
    // Now that the sockets serve: restored workers connect to them.
    std::vector<v1::RegisterFunctionRequest> stored =
        function_store_->LoadAll();
    LOG(INFO) << "Keeping registered functions in "
              << function_store_->directory() << "; restoring " << stored.size()
              << " of them";
    workers_->Restore(std::move(stored));
  }
  return absl::OkStatus();
}

SwiftdServer::~SwiftdServer() { Shutdown(absl::Seconds(1)); }

directory::v1::HostRecord SwiftdServer::DirectoryRecord() const {
  peer::v1::HelloRequest request;
  request.set_api_version(kControlApiVersion);
  // The handler's own answer to a Hello: one description of this host.
  absl::StatusOr<peer::v1::HelloResponse> hello = peer_handler_->Hello(request);
  directory::v1::HostRecord record;
  record.set_api_version(kControlApiVersion);
  record.set_host(directory_->options().host_name);
  record.set_peer_address(options_.peer_address);
  record.set_incarnation(incarnation_);
  record.set_started_unix_ms(absl::ToUnixMillis(started_));
  if (hello.ok()) {
    record.set_link_port(hello->link_port());
    *record.mutable_devices() = hello->devices();
    std::vector<std::string> services(hello->services().begin(),
                                      hello->services().end());
    std::sort(services.begin(), services.end());
    for (std::string& service : services) {
      record.add_services(std::move(service));
    }
  }
  return record;
}

void SwiftdServer::OnDirectoryChange(const DirectoryChange& change) {
  if (change.kind != DirectoryChange::Kind::kRestarted &&
      change.kind != DirectoryChange::Kind::kRemoved) {
    return;
  }
  // Its cached Hello is stale (a restart) or names nobody (gone).
  peers_->Invalidate(change.peer_address, change.reason);
  // A new incarnation proves the old one's connections are over. A record
  // that left only says its lease ran out, which an etcd outage causes as
  // well as a dead host: those connections stay until the peer watch
  // (--peer_watch_interval) finds the host itself silent.
  if (change.kind == DirectoryChange::Kind::kRestarted) {
    broker_->OnPeerGone(change.peer_address, change.old_incarnation,
                        change.reason);
  }
}

void SwiftdServer::ApplyLiveOptions(const SwiftdOptions& next) {
  if (peer_gate_ != nullptr) {
    std::vector<std::string> named;
    for (const auto& [name, address] : next.peers) named.push_back(address);
    // SwiftdOptionsFromConfig() checked the list already.
    absl::StatusOr<PeerAllowList> allow =
        PeerGate::BuildAllowList(next.peer_allow, named);
    if (allow.ok()) {
      LOG(INFO) << "Peer allow-list: " << allow->ToString();
      peer_gate_->SetAllowList(*std::move(allow));
    } else {
      LOG(ERROR) << "Keeping the peer allow-list: " << allow.status();
    }
  }
  if (peers_ != nullptr) peers_->SetNames(next.peers);
  if (admission_ != nullptr) admission_->SetLimits(next.admission);
  broker_quotas_.SetLimits(next.broker_quotas);
  if (workers_ != nullptr) workers_->SetQuotaLimits(next.function_quotas);
  if (leases_ != nullptr) leases_->SetQuotaLimits(next.leases.quotas);
}

void SwiftdServer::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) {
    return;
  }
  shut_down_ = true;
  // Metrics first: their exporter reads every subsystem below.
  if (metrics_ != nullptr) {
    metrics_->Stop();
  }
  // Then the directory: its lease revoked, the other hosts see this one
  // leave now rather than after a TTL, and send it no more connects.
  if (directory_ != nullptr) {
    directory_->Stop();
  }
  // Workers first (they are clients of this swiftd), then local clients
  // (their fast path threads may be waiting on peers), then the Peer API.
  if (workers_ != nullptr) {
    workers_->Shutdown();
  }
  if (fast_path_server_ != nullptr) {
    fast_path_server_->Shutdown();
  }
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMicroseconds(grace);
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    server_->Shutdown(deadline);
    server_->Wait();
    RemoveSocket(options_.socket_path);
  }
  if (peer_link_ != nullptr) {
    peer_link_->Shutdown();
  }
  if (peer_server_ != nullptr) {
    peer_server_->Shutdown(deadline);
    peer_server_->Wait();
  }
  if (irq_affinity_ != nullptr) {
    irq_affinity_->Restore();
  }
  LOG(INFO) << "Stopped serving on unix:" << options_.socket_path;
}

}  // namespace swift
