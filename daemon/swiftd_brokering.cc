// SwiftdServer's brokering (see swiftd_server.h): the Peer API and its
// lean link, the cluster directory and the broker, started when swiftd has
// a peer address; and this host's directory record and what the directory
// reports of the others.
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/version.h"
#include "daemon/swiftd_server.h"
#include "glog/logging.h"

namespace swift {
namespace {

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

// This host's name in the directory: --host_name, else the kernel's.
std::string HostName(const std::string& configured) {
  if (!configured.empty()) return configured;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

}  // namespace

absl::Status SwiftdServer::StartBrokering() {
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
  peers_ = std::make_unique<PeerDirectory>(incarnation_, options_.peer_address,
                                           options_.peers, peer_gate_.get(),
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
  broker_ =
      std::make_unique<Broker>(peers_.get(), admission_.get(), broker_options);
  peer_handler_ = std::make_unique<PeerHandler>(
      incarnation_, options_.peer_address, PeerDevices(*devices_), &services_);
  peer_service_ =
      std::make_unique<PeerServiceImpl>(peer_handler_.get(), peer_gate_.get());
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
  return absl::OkStatus();
}

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

}  // namespace swift
