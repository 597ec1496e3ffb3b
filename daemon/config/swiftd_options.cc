// SwiftdOptionsFromConfig(); see swiftd_options.h.
#include "daemon/config/swiftd_options.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "daemon/broker/peer_authenticator.h"
#include "daemon/broker/peer_gate.h"
#include "daemon/directory/directory_url.h"
#include "daemon/directory/etcd_tls.h"

namespace swift {
namespace {

// Collects what is wrong with the settings, each error naming its origin.
class Checker {
 public:
  explicit Checker(const EffectiveConfig& settings) : settings_(settings) {}

  void Fail(absl::string_view field, absl::string_view what) {
    errors_.push_back(absl::StrCat(settings_.Describe(field), " ", what));
  }
  template <typename T>
  T AtLeast(absl::string_view field, T value, T minimum,
            absl::string_view meaning = "") {
    if (value < minimum) {
      Fail(field, absl::StrCat("must be at least ", minimum, meaning, ", got ",
                               value));
    }
    return value;
  }
  // A duration as flags take it ("30s", "5m"): positive, or at least 0
  // when `zero_allowed`.
  absl::Duration Duration(absl::string_view field, const std::string& text,
                          bool zero_allowed = false) {
    absl::Duration value;
    if (!absl::ParseDuration(text, &value)) {
      Fail(field,
           absl::StrCat("must be a duration like 30s or 5m, got '", text, "'"));
      return absl::ZeroDuration();
    }
    if (value < absl::ZeroDuration() ||
        (!zero_allowed && value == absl::ZeroDuration())) {
      Fail(field,
           absl::StrCat("must be ", zero_allowed ? "at least 0" : "positive",
                        ", got ", text));
    }
    return value;
  }
  absl::Status status() const {
    if (errors_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
  }

 private:
  const EffectiveConfig& settings_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::StatusOr<SwiftdOptions> SwiftdOptionsFromConfig(
    const EffectiveConfig& settings) {
  const config::SwiftdConfig& c = settings.config;
  Checker check(settings);
  SwiftdOptions options;

  options.socket_path = c.socket();
  if (options.socket_path.empty()) check.Fail("socket", "must not be empty");
  {
    const std::string& text = c.socket_mode();
    char* end = nullptr;
    const unsigned long mode = std::strtoul(text.c_str(), &end, 8);
    if (text.empty() || *end != '\0' || mode > 0777) {
      check.Fail("socket_mode", absl::StrCat("must be octal permission bits "
                                             "like 0660, got '",
                                             text, "'"));
    }
    options.socket_mode = static_cast<mode_t>(mode);
  }
  options.socket_group = c.socket_group();
  options.devices.assign(c.devices().begin(), c.devices().end());

  // Brokering.
  options.peer_address = c.peer_address();
  options.peer_link = c.peer_link();
  for (const std::string& peer : c.peers()) {
    const size_t equals = peer.find('=');
    if (equals == std::string::npos || equals == 0 ||
        equals + 1 == peer.size()) {
      check.Fail("peers",
                 absl::StrCat("entries are name=ip:port, got '", peer, "'"));
      continue;
    }
    options.peers[peer.substr(0, equals)] = peer.substr(equals + 1);
  }
  options.insecure_peers = c.insecure_peers();
  options.peer_allow.assign(c.peer_allow().begin(), c.peer_allow().end());
  options.peer_auth_max_skew =
      check.Duration("peer_auth_max_skew", c.peer_auth_max_skew());
  if (!c.peer_secret_file().empty()) {
    absl::StatusOr<std::string> secret =
        PeerAuthenticator::ReadSecretFile(c.peer_secret_file());
    if (secret.ok()) {
      options.peer_secret = *std::move(secret);
    } else {
      check.Fail("peer_secret_file",
                 absl::StrCat("is not usable: ", secret.status().message()));
    }
  }
  if (!options.peer_address.empty()) {
    std::vector<std::string> named;
    for (const auto& [name, address] : options.peers) named.push_back(address);
    if (absl::StatusOr<PeerAllowList> allow =
            PeerGate::BuildAllowList(options.peer_allow, named);
        !allow.ok()) {
      check.Fail(options.peer_allow.empty() ? "peers" : "peer_allow",
                 absl::StrCat("is not usable: ", allow.status().message()));
    }
  }
  options.max_peer_entries =
      check.AtLeast("max_peer_entries", c.max_peer_entries(), 1);
  options.peer_watch_interval = check.Duration(
      "peer_watch_interval", c.peer_watch_interval(), /*zero_allowed=*/true);

  // Handshake admission and the broker's per-tenant quotas.
  options.admission.per_peer =
      check.AtLeast("max_handshakes_per_peer", c.max_handshakes_per_peer(), 1);
  options.admission.total =
      check.AtLeast("max_handshakes", c.max_handshakes(), 1);
  options.admission.max_queued =
      check.AtLeast("max_queued_connects", c.max_queued_connects(), 0);
  options.admission.per_tenant = check.AtLeast(
      "max_handshakes_per_tenant", c.max_handshakes_per_tenant(), 1);
  options.max_connect_timeout =
      check.Duration("max_connect_timeout", c.max_connect_timeout());
  options.broker_quotas.connections = check.AtLeast<int64_t>(
      "max_connections_per_tenant", c.max_connections_per_tenant(), 0);
  options.broker_quotas.services = check.AtLeast<int64_t>(
      "max_services_per_tenant", c.max_services_per_tenant(), 0);
  options.broker_quotas.pooled_endpoints =
      check.AtLeast<int64_t>("max_pooled_endpoints_per_tenant",
                             c.max_pooled_endpoints_per_tenant(), 0);
  options.broker_quotas.pooled_endpoints_per_service =
      check.AtLeast<int64_t>("max_pooled_endpoints_per_service",
                             c.max_pooled_endpoints_per_service(), 0);

  // Functions.
  options.worker_binary = c.worker_binary();
  options.state_dir = c.state_dir();
  constexpr absl::string_view kNoLimit = " (0: no limit)";
  options.function_quotas.max_functions_per_tenant = check.AtLeast(
      "max_functions_per_tenant", c.max_functions_per_tenant(), 0, kNoLimit);
  options.function_quotas.max_instances_per_tenant = check.AtLeast(
      "max_instances_per_tenant", c.max_instances_per_tenant(), 0, kNoLimit);
  options.function_quotas.max_cold_workers_per_tenant =
      check.AtLeast("max_cold_workers_per_tenant",
                    c.max_cold_workers_per_tenant(), 0, kNoLimit);
  options.function_quotas.max_workers =
      check.AtLeast("max_workers", c.max_workers(), 0, kNoLimit);
  options.cold_template_idle_timeout =
      check.Duration("cold_template_idle_timeout",
                     c.cold_template_idle_timeout(), /*zero_allowed=*/true);

  // Connection bounds.
  options.fast_path_limits.max_connections = check.AtLeast(
      "max_fast_path_connections", c.max_fast_path_connections(), 1);
  options.fast_path_limits.max_connections_per_uid =
      check.AtLeast("max_fast_path_connections_per_uid",
                    c.max_fast_path_connections_per_uid(), 0);
  options.peer_link_limits.max_connections = check.AtLeast(
      "max_peer_link_connections", c.max_peer_link_connections(), 1);
  options.fast_path_limits.fd_reserve = options.peer_link_limits.fd_reserve =
      check.AtLeast("connection_fd_reserve", c.connection_fd_reserve(), 0);
  options.fast_path_limits.answer_spin = check.Duration(
      "fast_path_spin", c.fast_path_spin(), /*zero_allowed=*/true);
  options.fast_path_limits.hello_timeout =
      options.peer_link_limits.hello_timeout =
          check.Duration("hello_timeout", c.hello_timeout());
  options.peer_link_limits.idle_timeout =
      check.Duration("peer_link_idle_timeout", c.peer_link_idle_timeout());
  options.control_limits.max_attach_streams =
      check.AtLeast("max_attach_streams", c.max_attach_streams(), 1);
  options.control_limits.max_streams_per_connection =
      check.AtLeast("grpc_max_streams_per_connection",
                    c.grpc_max_streams_per_connection(), 1);
  options.control_limits.max_connection_idle =
      check.Duration("grpc_max_connection_idle", c.grpc_max_connection_idle());
  options.control_limits.memory_quota_bytes =
      int64_t{
          check.AtLeast("grpc_memory_quota_mb", c.grpc_memory_quota_mb(), 16)}
      << 20;
  options.control_limits.max_threads =
      check.AtLeast("grpc_max_threads", c.grpc_max_threads(), 2);

  // Memory leases.
  options.leases.quotas.leases_per_tenant = check.AtLeast<int64_t>(
      "max_leases_per_tenant", c.max_leases_per_tenant(), 0, kNoLimit);
  options.leases.quotas.bytes_per_tenant = c.max_lease_bytes_per_tenant();
  options.leases.quotas.bytes_total = c.max_lease_bytes_total();
  options.leases.pools.region_bytes = check.AtLeast<uint64_t>(
      "lease_pool_region_bytes", c.lease_pool_region_bytes(), 1);
  options.leases.pools.regions_per_tenant =
      check.AtLeast("lease_pool_regions_per_tenant",
                    c.lease_pool_regions_per_tenant(), 0, " (0: no pools)");
  options.leases.pools.try_hugepages = c.lease_hugepages();
  options.leases.pools.idle_timeout =
      check.Duration("lease_pool_idle_timeout", c.lease_pool_idle_timeout());
  options.contexts.pool_per_device =
      check.AtLeast("shared_contexts_per_device",
                    c.shared_contexts_per_device(), 0, " (0: no pools)");
  options.contexts.max_per_tenant = check.AtLeast<int64_t>(
      "max_shared_contexts_per_tenant", c.max_shared_contexts_per_tenant(), 1);

  // Operations.
  options.metrics_address = c.metrics_address();
  options.metrics_required = options.metrics_address != "auto";
  if (!options.metrics_required) options.metrics_address = "127.0.0.1:7473";
  check.AtLeast("log_verbosity", c.log_verbosity(), -1,
                " (-1: GLOG_v from the environment)");
  options.irq_affinity = c.irq_affinity();
  if (absl::StatusOr<CpusSetting> cpus = ParseCpusSetting(c.cpus());
      cpus.ok()) {
    options.cpus = *std::move(cpus);
  } else {
    check.Fail("cpus", cpus.status().message());
  }

  // The cluster's service directory.
  options.directory = c.directory();
  options.host_name = c.host_name();
  options.directory_ttl = check.Duration("directory_ttl", c.directory_ttl());
  if (!options.directory.empty()) {
    if (absl::StatusOr<DirectoryUrl> url = ParseDirectoryUrl(options.directory);
        !url.ok()) {
      check.Fail("directory", std::string(url.status().message()));
    }
    if (options.peer_address.empty()) {
      check.Fail("directory",
                 "needs peer_address: the address other swiftds reach this "
                 "one at, which it publishes");
    }
    if (options.peer_allow.empty()) {
      check.Fail("directory",
                 "needs peer_allow: the networks the cluster's hosts are on "
                 "(e.g. 10.0.0.0/16); swiftd dials the directory's hosts only "
                 "inside them");
    }
    if (absl::StatusOr<EtcdTls> tls =
            ReadEtcdTls(c.directory_ca_file(), c.directory_cert_file(),
                        c.directory_key_file());
        tls.ok()) {
      options.directory_tls = *std::move(tls);
    } else {
      check.Fail(c.directory_ca_file().empty() ? "directory_cert_file"
                                               : "directory_ca_file",
                 std::string(tls.status().message()));
    }
    if (options.directory_ttl < absl::Seconds(1)) {
      check.Fail("directory_ttl",
                 "must be at least 1s (etcd leases count "
                 "whole seconds)");
    }
  }
  if (options.directory.empty() &&
      (!c.directory_ca_file().empty() || !c.directory_cert_file().empty() ||
       !c.directory_key_file().empty())) {
    check.Fail(!c.directory_ca_file().empty()     ? "directory_ca_file"
               : !c.directory_cert_file().empty() ? "directory_cert_file"
                                                  : "directory_key_file",
               "is a TLS file for the directory, but there is no directory");
  }
  if (!options.host_name.empty() &&
      !IsValidDirectoryHostName(options.host_name)) {
    check.Fail("host_name",
               absl::StrCat("'", options.host_name,
                            "' is not a host name (letters, digits, '-', "
                            "'.', '_'; at most 253)"));
  }

  if (absl::Status status = check.status(); !status.ok()) return status;
  return options;
}

}  // namespace swift
