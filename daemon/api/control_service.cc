// ControlServiceImpl implementation; see control_service.h.
#include "daemon/api/control_service.h"

#include <grpcpp/resource_quota.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/version.h"
#include "daemon/devices/device_report.h"
#include "daemon/irq/irq_report.h"
#include "daemon/transport/grpc_status.h"
#include "glog/logging.h"

namespace swift {
namespace {

grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The API version of a Control API request: the one check every RPC makes
// before anything else.
template <typename Request>
absl::Status CheckVersion(const Request& request) {
  return CheckApiVersion(request.header().api_version(), "client");
}

// What a tenant holds (services, connections, functions) is shown to it
// and to root only (issue 10, finding 10). gRPC 1.51 does not tell swiftd
// who calls on its Unix socket: insecure and local credentials put no
// SO_PEERCRED in the AuthContext, and the peer string of a Unix client is
// a bare "unix:". So those listings are served on the fast path, where
// the kernel names the caller, and refused here with the reason.
absl::Status ListedOnFastPathOnly(absl::string_view call) {
  return absl::PermissionDeniedError(absl::StrCat(
      call,
      " is served on swiftd's fast path only (libswift and swiftctl use "
      "it), where swiftd knows the caller's uid and shows it its own "
      "objects"));
}

// Serves a unary RPC that answers at once: `fill` runs only for a request
// of a version this swiftd speaks, and its status finishes the call.
template <typename Request, typename Fill>
grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                const Request& request, Fill fill) {
  absl::Status status = CheckVersion(request);
  if (status.ok()) {
    status = fill();
  }
  return FinishWith(context, status);
}

// One open Attach stream: the client stays registered until the stream
// ends (client exit, cancel, or swiftd shutdown). gRPC's reactor API owns
// the object's lifetime through OnDone(), hence the `delete this`.
class AttachSession final : public grpc::ServerWriteReactor<v1::AttachEvent> {
 public:
  // Holds one of `open`'s places (taken by the caller) until done.
  AttachSession(ClientRegistry* clients, const v1::AttachRequest& request,
                std::shared_ptr<std::atomic<int>> open)
      : clients_(clients),
        open_(std::move(open)),
        id_(clients->Add(request.header().client_name(), request.pid())) {
    VLOG(1) << "Client " << id_ << " attached: '"
            << request.header().client_name() << "' pid " << request.pid();
    welcome_.set_client_id(id_);
    StartWrite(&welcome_);
  }

  void OnWriteDone(bool ok) override {
    // After the welcome the stream stays open with nothing to send; a
    // failed write means the client is already gone.
    if (!ok) {
      FinishOnce(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "client went away"));
    }
  }

  void OnCancel() override {
    FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "detached"));
  }

  void OnDone() override {
    clients_->Remove(id_);
    open_->fetch_sub(1);
    VLOG(1) << "Client " << id_ << " detached";
    delete this;
  }

 private:
  void FinishOnce(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (!finished_) {
      finished_ = true;
      Finish(status);
    }
  }

  ClientRegistry* const clients_;
  const std::shared_ptr<std::atomic<int>> open_;
  const uint64_t id_;
  v1::AttachEvent welcome_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// Refuses an Attach whose request is invalid.
class RejectedAttach final : public grpc::ServerWriteReactor<v1::AttachEvent> {
 public:
  explicit RejectedAttach(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

void ConfigureControlServer(const ControlApiLimits& limits,
                            grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                              limits.max_streams_per_connection);
  builder->AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(limits.max_connection_idle), INT32_MAX)));
  grpc::ResourceQuota quota("swiftd-control-api");
  quota.Resize(static_cast<size_t>(limits.memory_quota_bytes));
  quota.SetMaxThreads(limits.max_threads);
  builder->SetResourceQuota(quota);
}

ControlServiceImpl::ControlServiceImpl(Sources sources)
    : sources_(std::move(sources)),
      start_time_(absl::Now()) {}

grpc::ServerUnaryReactor* ControlServiceImpl::GetStatus(
    grpc::CallbackServerContext* context, const v1::GetStatusRequest* request,
    v1::GetStatusResponse* response) {
  return Serve(context, *request, [&] {
    response->set_version(kSwiftVersion);
    response->set_api_version(kControlApiVersion);
    response->set_min_api_version(kMinControlApiVersion);
    response->set_uptime_us(
        absl::ToInt64Microseconds(absl::Now() - start_time_));
    response->set_pid(getpid());
    response->set_devices_count(sources_.devices->open_count());
    response->set_devices_failed_count(sources_.devices->failed_count());
    response->set_clients_count(sources_.clients->Count());
    response->set_socket_path(sources_.socket_path);
    response->set_start_time_unix_us(absl::ToUnixMicros(start_time_));
    response->set_incarnation(sources_.incarnation);
    response->set_peer_address(sources_.peer_address);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlServiceImpl::ListDevices(
    grpc::CallbackServerContext* context, const v1::ListDevicesRequest* request,
    v1::ListDevicesResponse* response) {
  return Serve(context, *request, [&] {
    // Built at each call: the cache follows devices and ports as they
    // change.
    *response = ListDevicesFromCache(*sources_.devices);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlServiceImpl::Ping(
    grpc::CallbackServerContext* context, const v1::PingRequest* request,
    v1::PingResponse* response) {
  return Serve(context, *request, [&] {
    response->set_sequence(request->sequence());
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::AttachEvent>* ControlServiceImpl::Attach(
    grpc::CallbackServerContext* context, const v1::AttachRequest* request) {
  if (absl::Status status = CheckVersion(*request); !status.ok()) {
    return new RejectedAttach(status);
  }
  // Each open stream holds a client entry and gRPC's buffers for as long
  // as its client likes: bounded, as the fast path's connections are.
  if (attach_streams_->fetch_add(1) >= sources_.max_attach_streams) {
    attach_streams_->fetch_sub(1);
    LOG_EVERY_N(WARNING, 100)
        << "Control API: refused an Attach stream: "
        << sources_.max_attach_streams << " are open (--max_attach_streams)";
    return new RejectedAttach(absl::ResourceExhaustedError(absl::StrCat(
        "swiftd serves at most ", sources_.max_attach_streams,
        " Attach streams at once (--max_attach_streams); end idle clients "
        "or raise the flag")));
  }
  return new AttachSession(sources_.clients, *request, attach_streams_);
}

// ListPeers is served on gRPC to any caller, unlike the tenants'
// listings: what it shows is the host's, not a tenant's. Its rows are the
// other swiftds of the cluster (the operator's --peers, and addresses its
// allow-list admits, which any tenant may connect to by name), what they
// announce to every peer (incarnation, devices, service names: the
// cluster's directory, which a connect needs), and counters summed over
// every tenant: no uid, pid, client name or local service appears, nor
// which tenant called which peer (the Broker's per-tenant counts are
// `swiftctl tenants`', each tenant seeing its own). `last_error` is only
// ever a transport's or a peer's Hello error, or a restart: a connect's
// own failure (which names a tenant's service) is never recorded there
// (Broker::Connect). gRPC cannot tell who calls on swiftd.sock, so
// nothing a tenant owns may be added here.
grpc::ServerUnaryReactor* ControlServiceImpl::ListPeers(
    grpc::CallbackServerContext* context, const v1::ListPeersRequest* request,
    v1::ListPeersResponse* response) {
  return Serve(context, *request, [&] {
    v1::PeerCounters* totals = response->mutable_totals();
    if (sources_.gate != nullptr) {
      const PeerGate::Counters all = sources_.gate->counters();
      totals->set_admitted(all.admitted);
      totals->set_refused_address(all.refused_address);
      totals->set_refused_credential(all.refused_credential);
      totals->set_refused_replay(all.refused_replay);
      totals->set_refused_dial(all.refused_dial);
    }
    if (sources_.peers != nullptr) {
      for (const PeerDirectory::PeerView& view : sources_.peers->List()) {
        v1::PeerInfo* peer = response->add_peers();
        v1::PeerCounters* counters = peer->mutable_counters();
        counters->set_calls(view.calls);
        counters->set_call_errors(view.call_errors);
        totals->set_calls(totals->calls() + view.calls);
        totals->set_call_errors(totals->call_errors() + view.call_errors);
        if (std::optional<IpAddress> ip = IpAddress::FromHostPort(view.address);
            ip.has_value() && sources_.gate != nullptr) {
          const PeerGate::Counters from = sources_.gate->CountersOf(*ip);
          counters->set_admitted(from.admitted);
          counters->set_refused_address(from.refused_address);
          counters->set_refused_credential(from.refused_credential);
          counters->set_refused_replay(from.refused_replay);
        }
        peer->set_name(view.name);
        peer->set_address(view.address);
        peer->set_source(PeerDirectory::SourceName(view.source));
        peer->set_incarnation(view.incarnation);
        for (const std::string& device : view.devices) {
          peer->add_devices(device);
        }
        for (const std::string& service : view.services) {
          peer->add_services(service);
        }
        peer->set_cache_hits(view.cache_hits);
        peer->set_cache_misses(view.cache_misses);
        peer->set_last_error(view.last_error);
      }
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlServiceImpl::ListServices(
    grpc::CallbackServerContext* context,
    const v1::ListServicesRequest* request,
    v1::ListServicesResponse* response) {
  return Serve(context, *request,
               [] { return ListedOnFastPathOnly("ListServices"); });
}

grpc::ServerUnaryReactor* ControlServiceImpl::ListConnections(
    grpc::CallbackServerContext* context,
    const v1::ListConnectionsRequest* request,
    v1::ListConnectionsResponse* response) {
  return Serve(context, *request,
               [] { return ListedOnFastPathOnly("ListConnections"); });
}

}  // namespace swift

namespace swift {
namespace {

// gRPC does not tell swiftd who calls on its Unix socket; deciding as whom
// a function may run, and who may run it, needs the kernel's word (the
// fast path's SO_PEERCRED).
absl::Status ManagedOnFastPathOnly(absl::string_view call) {
  return absl::PermissionDeniedError(absl::StrCat(
      call,
      " is served on swiftd's fast path only (libswift and swiftctl "
      "use it), where swiftd knows the caller's uid"));
}

}  // namespace

grpc::ServerUnaryReactor* ControlServiceImpl::RegisterFunction(
    grpc::CallbackServerContext* context,
    const v1::RegisterFunctionRequest* request,
    v1::RegisterFunctionResponse* response) {
  return Serve(context, *request,
               [] { return ManagedOnFastPathOnly("RegisterFunction"); });
}

grpc::ServerUnaryReactor* ControlServiceImpl::UnregisterFunction(
    grpc::CallbackServerContext* context,
    const v1::UnregisterFunctionRequest* request,
    v1::UnregisterFunctionResponse* response) {
  return Serve(context, *request,
               [] { return ManagedOnFastPathOnly("UnregisterFunction"); });
}

grpc::ServerUnaryReactor* ControlServiceImpl::Invoke(
    grpc::CallbackServerContext* context, const v1::InvokeRequest* request,
    v1::InvokeResponse* response) {
  return Serve(context, *request,
               [] { return ManagedOnFastPathOnly("Invoke"); });
}

grpc::ServerUnaryReactor* ControlServiceImpl::ListWorkers(
    grpc::CallbackServerContext* context, const v1::ListWorkersRequest* request,
    v1::ListWorkersResponse* response) {
  return Serve(context, *request,
               [] { return ListedOnFastPathOnly("ListWorkers"); });
}

grpc::ServerUnaryReactor* ControlServiceImpl::ListIrqs(
    grpc::CallbackServerContext* context, const v1::ListIrqsRequest* request,
    v1::ListIrqsResponse* response) {
  return Serve(context, *request, [&] {
    if (sources_.irqs == nullptr) {
      return absl::UnavailableError("ListIrqs: swiftd keeps no IRQ state");
    }
    // Read at each call: the affinities and counts are the kernel's now.
    *response = ListIrqsFromReport(sources_.irqs->Snapshot());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControlServiceImpl::ListDirectory(
    grpc::CallbackServerContext* context,
    const v1::ListDirectoryRequest* request,
    v1::ListDirectoryResponse* response) {
  return Serve(context, *request, [&] {
    if (sources_.directory == nullptr) {
      return absl::FailedPreconditionError(
          "swiftd has no --directory: its peers come from --peers only");
    }
    const Directory::State state = sources_.directory->state();
    const absl::Time now = absl::Now();
    response->set_url(sources_.directory->Describe());
    const EtcdTls& tls = sources_.directory->options().tls;
    response->set_transport(!tls.enabled() ? "plain gRPC"
                            : tls.cert_pem.empty()
                                ? "TLS"
                                : "TLS with a client certificate");
    response->set_host_name(sources_.directory->options().host_name);
    response->set_reachable(state.reachable);
    response->set_since_unix_ms(absl::ToUnixMillis(state.since));
    response->set_last_error(state.last_error);
    response->set_registered(state.registered);
    response->set_lease_id(state.lease_id);
    response->set_lease_ttl_ms(absl::ToInt64Milliseconds(state.lease_ttl));
    response->set_revision(state.revision);
    response->set_bad_records(state.bad_records);
    response->set_registrations(state.registrations);
    response->set_watch_restarts(state.watch_restarts);
    for (const DirectoryHost& host : sources_.directory->List()) {
      v1::DirectoryHostInfo* info = response->add_hosts();
      info->set_host(host.host);
      info->set_peer_address(host.peer_address);
      info->set_incarnation(host.incarnation);
      for (const DirectoryHost::Device& device : host.devices) {
        info->add_devices(absl::StrCat(device.name, " ", device.gid));
      }
      for (const std::string& service : host.services) {
        info->add_services(service);
      }
      info->set_started_unix_ms(host.started_unix_ms);
      info->set_updated_ago_ms(absl::ToInt64Milliseconds(now - host.updated));
    }
    return absl::OkStatus();
  });
}

}  // namespace swift
