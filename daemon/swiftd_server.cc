// SwiftdServer: its start in steps, live options and shutdown; see
// swiftd_server.h (brokering and the fast path have files of their own).
#include "daemon/swiftd_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unix_socket.h"
#include "daemon/devices/irq_map.h"
#include "daemon/transport/socket_path.h"
#include "glog/logging.h"

namespace swift {
namespace {

uint64_t RandomIncarnation() {
  std::random_device random;
  uint64_t value = 0;
  while (value == 0) {
    value = (static_cast<uint64_t>(random()) << 32) | random();
  }
  return value;
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

}  // namespace

absl::StatusOr<std::unique_ptr<grpc::Server>> SwiftdServer::Listen(
    const std::string& address, grpc::Service* service,
    const ControlApiLimits* limits) {
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
  // Checked before anything listens: a bad address or a port in use is
  // refused at once, naming --metrics_address.
  std::optional<MetricsAddress> metrics_address;
  if (!options_.metrics_address.empty()) {
    SWIFT_ASSIGN_OR_RETURN(metrics_address, CheckMetricsAddress());
  }
  if (!options_.peer_address.empty()) {
    SWIFT_RETURN_IF_ERROR(StartBrokering());
  }
  if (!options_.worker_binary.empty()) {
    StartWorkers();
  }
  SWIFT_RETURN_IF_ERROR(StartControlApi());
  StartLeases();
  StartSharedContexts();
  SWIFT_RETURN_IF_ERROR(StartFastPath());
  // Only now: a process that finds the hints (libswift's cold start, the
  // preload) calls the fast path at once, and must find it serving.
  absl::StatusOr<std::unique_ptr<PreloadHintsKeeper>> hints =
      PreloadHintsKeeper::Start(PreloadHintsPath(options_.socket_path),
                                &devices_->table());
  if (hints.ok()) {
    preload_hints_ = *std::move(hints);
  } else {
    LOG(WARNING) << "No preload hints (new processes load every provider): "
                 << hints.status();
  }
  if (metrics_address.has_value()) {
    SWIFT_RETURN_IF_ERROR(ServeMetrics(*metrics_address));
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  if (function_store_ != nullptr) {
    RestoreFunctions();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<MetricsAddress>>
SwiftdServer::CheckMetricsAddress() {
  SWIFT_ASSIGN_OR_RETURN(MetricsAddress metrics_address,
                         ParseMetricsAddress(options_.metrics_address));
  if (absl::Status free = CheckCanListen(metrics_address); !free.ok()) {
    if (options_.metrics_required) {
      return free;
    }
    LOG(WARNING) << "Serving no metrics: " << free.message()
                 << " (that is the default --metrics_address: give one, "
                    "or an empty one to turn metrics off)";
    return std::optional<MetricsAddress>();
  }
  metrics_ = std::make_unique<SwiftdMetrics>();
  return std::optional<MetricsAddress>(metrics_address);
}

void SwiftdServer::StartWorkers() {
  WorkerManager::Options worker_options;
  worker_options.worker_binary = options_.worker_binary;
  worker_options.swiftd_socket = options_.socket_path;
  worker_options.cpus = options_.worker_cpus;
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
    worker_options.observers.on_invoked = [metrics = metrics_.get()](
                                              const std::string& function,
                                              v1::InvokeRequest::Mode mode,
                                              const absl::Status& result,
                                              absl::Duration elapsed) {
      metrics->functions().ObserveInvocation(function, mode, result, elapsed);
    };
    worker_options.observers.on_worker_started =
        [metrics = metrics_.get()](const char* reason) {
          metrics->functions().CountWorkerStarted(reason);
        };
  }
  workers_ = std::make_unique<WorkerManager>(worker_options);
}

absl::Status SwiftdServer::StartControlApi() {
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
  return absl::OkStatus();
}

absl::Status SwiftdServer::ServeMetrics(const MetricsAddress& address) {
  SwiftdMetrics::Sources sources;
  sources.devices = &devices_->table();
  sources.broker = broker_.get();
  sources.services = &services_;
  sources.clients = &clients_;
  sources.leases = leases_.get();
  sources.workers = workers_.get();
  sources.directory = directory_.get();
  absl::Status serving = metrics_->Serve(address, sources);
  if (!serving.ok() && options_.metrics_required) {
    return serving;
  }
  if (serving.ok()) {
    LOG(INFO) << "Serving Prometheus metrics on http://" << address.ip << ":"
              << metrics_->port() << "/metrics";
  } else {
    LOG(WARNING) << "Serving no metrics: " << serving.message();
  }

  return absl::OkStatus();
}

void SwiftdServer::RestoreFunctions() {
  // Now that the sockets serve: restored workers connect to them.
  std::vector<v1::RegisterFunctionRequest> stored = function_store_->LoadAll();
  LOG(INFO) << "Keeping registered functions in "
            << function_store_->directory() << "; restoring " << stored.size()
            << " of them";
  workers_->Restore(std::move(stored));
}

SwiftdServer::~SwiftdServer() { Shutdown(absl::Seconds(1)); }

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
  // The hints first: a process starting now must not count on this swiftd.
  preload_hints_.reset();
  // Then metrics: their exporter reads every subsystem below.
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
