// swiftctl's output formats; see format.h.
#include "tools/swiftctl/format.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace swift::swiftctl {

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto widen = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  widen(header);
  for (const auto& row : rows) {
    widen(row);
  }
  auto render = [&widths](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      absl::StrAppend(&line, cell);
      if (i + 1 < widths.size()) {
        line.append(widths[i] - cell.size() + 2, ' ');
      }
    }
    // Trailing blanks of a short last cell are noise.
    line.erase(line.find_last_not_of(' ') + 1);
    return line + "\n";
  };
  std::string out = render(header);
  for (const auto& row : rows) {
    out += render(row);
  }
  return out;
}

std::string FormatDuration(uint64_t microseconds) {
  const uint64_t seconds = microseconds / 1000000;
  if (seconds == 0) {
    return absl::StrCat(microseconds / 1000, "ms");
  }
  const uint64_t minutes = seconds / 60;
  const uint64_t hours = minutes / 60;
  const uint64_t days = hours / 24;
  if (days > 0) {
    return absl::StrCat(days, "d ", hours % 24, "h");
  }
  if (hours > 0) {
    return absl::StrCat(hours, "h ", minutes % 60, "m");
  }
  if (minutes > 0) {
    return absl::StrCat(minutes, "m ", seconds % 60, "s");
  }
  return absl::StrCat(seconds, "s");
}

std::string FormatStatus(const v1::GetStatusResponse& status) {
  std::string devices = absl::StrCat(status.devices_count());
  if (status.devices_failed_count() > 0) {
    absl::StrAppend(&devices, " (", status.devices_failed_count(),
                    " failed to open: see 'swiftctl devices')");
  }
  return FormatTable(
      {"swiftd:", "alive"},
      {{"version:", status.version()},
       {"api:", absl::StrCat("v", status.api_version(), " (accepts v",
                             status.min_api_version(), "+)")},
       {"pid:", absl::StrCat(status.pid())},
       {"uptime:", FormatDuration(status.uptime_us())},
       {"socket:", status.socket_path()},
       {"devices:", devices},
       {"clients:", absl::StrCat(status.clients_count())},
       {"peer api:", status.peer_address().empty()
                         ? std::string("off (no --peer_address)")
                         : absl::StrCat(status.peer_address(), " (incarnation ",
                                        status.incarnation(), ")")}});
}

namespace {

// "admitted/refused" of the peer gate, the refusals by reason when any:
// "12/3 (address 1, credential 2, replay 0)".
std::string GateCounts(const v1::PeerCounters& counters) {
  const uint64_t refused = counters.refused_address() +
                           counters.refused_credential() +
                           counters.refused_replay();
  std::string text = absl::StrCat(counters.admitted(), "/", refused);
  if (refused != 0) {
    absl::StrAppend(&text, " (address ", counters.refused_address(),
                    ", credential ", counters.refused_credential(), ", replay ",
                    counters.refused_replay(), ")");
  }
  return text;
}

}  // namespace

std::string FormatPeers(const v1::ListPeersResponse& response) {
  const v1::PeerCounters& totals = response.totals();
  // The gate's counts, for every caller (peers or not) and every dial.
  const std::string total_line = absl::StrCat(
      "total: calls/errors ", totals.calls(), "/", totals.call_errors(),
      ", peer requests admitted/refused ", GateCounts(totals),
      ", dials refused ", totals.refused_dial(), "\n");
  if (response.peers().empty()) {
    return absl::StrCat(
        "No peers. (swiftd learns of a peer when a client connects to "
        "it, from --peers or from --directory.)\n",
        total_line);
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::PeerInfo& peer : response.peers()) {
    rows.push_back(
        {peer.name(), peer.address(),
         peer.source().empty() ? "-" : peer.source(),
         peer.incarnation() == 0 ? "-" : absl::StrCat(peer.incarnation()),
         peer.devices().empty() ? "-" : absl::StrJoin(peer.devices(), ", "),
         peer.services().empty() ? "-" : absl::StrJoin(peer.services(), ","),
         absl::StrCat(peer.cache_hits(), "/", peer.cache_misses()),
         absl::StrCat(peer.counters().calls(), "/",
                      peer.counters().call_errors()),
         GateCounts(peer.counters()),
         peer.last_error().empty() ? "ok" : peer.last_error()});
  }
  return absl::StrCat(FormatTable({"NAME", "ADDRESS", "SOURCE", "INCARNATION",
                                   "DEVICES", "SERVICES", "HIT/MISS",
                                   "CALLS/ERR", "IN OK/REFUSED", "STATE"},
                                  rows),
                      total_line);
}

std::string FormatServices(const v1::ListServicesResponse& response) {
  if (response.services().empty()) {
    return "No services listening.\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::ServiceInfo& service : response.services()) {
    rows.push_back(
        {service.name(), service.owner(), absl::StrCat(service.owner_uid()),
         absl::StrCat(service.pooled_qps()),
         absl::StrCat(service.connections()), absl::StrCat(service.accepted()),
         absl::StrCat(service.refused())});
  }
  return FormatTable({"SERVICE", "OWNER", "UID", "POOLED QPS", "CONNECTIONS",
                      "ACCEPTED", "REFUSED"},
                     rows);
}

std::string FormatPools(const v1::ListServicesResponse& services,
                        const v1::ListConnectionsResponse& connections) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::ServiceInfo& service : services.services()) {
    rows.push_back({"service " + service.name(),
                    absl::StrCat(service.pooled_qps()),
                    absl::StrCat(service.connections())});
  }
  std::string out = rows.empty()
                        ? "No service QP pools (no service listening).\n"
                        : FormatTable({"POOL", "READY QPS", "IN USE"}, rows);
  const v1::AdmissionInfo& admission = connections.admission();
  absl::StrAppend(&out, "\nhandshakes: ", admission.in_flight(),
                  " in flight (limits ", admission.per_peer_limit(),
                  " per peer, ", admission.total_limit(), " in all), ",
                  admission.queued(), " queued\n");
  return out;
}

std::string FormatConnections(const v1::ListConnectionsResponse& response) {
  std::string out;
  if (response.connections().empty()) {
    out = "No brokered connections.\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    std::string problems;
    for (const v1::ConnectionInfo& connection : response.connections()) {
      const std::string remote =
          connection.remote_problem().empty()
              ? "ok"
              : (connection.remote_ended() ? "ended" : "suspect");
      rows.push_back({absl::StrCat(connection.id()), connection.peer(),
                      connection.service(),
                      absl::StrCat(connection.client_name(), " (",
                                   connection.client_pid(), ")"),
                      absl::StrCat(connection.uid()),
                      absl::StrCat(connection.handshake_us()),
                      FormatDuration(connection.age_us()), remote});
      if (!connection.remote_problem().empty()) {
        absl::StrAppend(&problems, "  ", connection.id(), ": ",
                        connection.remote_problem(), "\n");
      }
    }
    out = FormatTable({"ID", "PEER", "SERVICE", "CLIENT", "UID", "HANDSHAKE US",
                       "AGE", "REMOTE"},
                      rows);
    if (!problems.empty()) {
      absl::StrAppend(&out, "\nremote side:\n", problems);
    }
  }
  const v1::AdmissionInfo& admission = response.admission();
  absl::StrAppend(&out, "\nconnected ", response.connected_total(), ", closed ",
                  response.closed_total(), "; handshakes ",
                  admission.in_flight(), " in flight, ", admission.queued(),
                  " queued, ", admission.timed_out(), " timed out in queue\n");
  if (!response.failed_by_reason().empty()) {
    std::vector<std::string> reasons;
    for (const auto& [reason, count] : response.failed_by_reason()) {
      reasons.push_back(absl::StrCat(reason, " ", count));
    }
    std::sort(reasons.begin(), reasons.end());
    absl::StrAppend(&out, "failed: ", absl::StrJoin(reasons, ", "), "\n");
  }
  return out;
}

std::string FormatTenants(const v1::ListTenantsResponse& response) {
  std::string out;
  if (response.tenants().empty()) {
    out = "No tenant holds anything.\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const v1::TenantInfo& tenant : response.tenants()) {
      // "use/quota"; a quota of 0 means none.
      auto of = [](uint64_t used, uint64_t quota) {
        return quota == 0 ? absl::StrCat(used)
                          : absl::StrCat(used, "/", quota);
      };
      rows.push_back(
          {absl::StrCat(tenant.uid()),
           of(tenant.connections(), tenant.max_connections()),
           of(tenant.services(), tenant.max_services()),
           of(tenant.pooled_endpoints(), tenant.max_pooled_endpoints()),
           of(tenant.handshakes(), tenant.max_handshakes()),
           absl::StrCat(tenant.queued_connects()),
           of(tenant.functions(), tenant.max_functions()),
           of(tenant.instances(), tenant.max_instances()),
           of(tenant.cold_workers(), tenant.max_cold_workers())});
    }
    out = FormatTable({"UID", "CONNECTIONS", "SERVICES", "POOLED ENDPOINTS",
                       "HANDSHAKES", "QUEUED", "FUNCTIONS", "INSTANCES",
                       "COLD"},
                      rows);
  }
  absl::StrAppend(&out, "\nper service: ",
                  response.max_pooled_endpoints_per_service(),
                  " pooled endpoints at most");
  if (response.max_connect_timeout_ms() > 0) {
    absl::StrAppend(&out, "; a connect waits ",
                    FormatDuration(uint64_t{response.max_connect_timeout_ms()} *
                                   1000),
                    " at most");
  }
  if (response.max_peer_entries() > 0) {
    absl::StrAppend(&out, "; peers: ", response.peer_entries(), " of ",
                    response.max_peer_entries());
  }
  if (response.max_workers() > 0) {
    absl::StrAppend(&out, "; workers: ", response.workers(), " of ",
                    response.max_workers());
  }
  absl::StrAppend(&out, "\n(root is counted, not limited)");
  absl::StrAppend(&out, "\n");
  return out;
}

namespace {

// "COLD/WARM/FORK" invocations through swiftd, e.g. "0/3/4"; "-" from a
// swiftd that does not count them by mode.
std::string ByMode(const v1::WorkerInfo& worker) {
  if (worker.by_mode().empty()) {
    return "-";
  }
  uint64_t counts[3] = {0, 0, 0};
  for (const v1::InvocationModeStats& mode : worker.by_mode()) {
    switch (mode.mode()) {
      case v1::InvokeRequest::COLD:
        counts[0] += mode.invocations();
        break;
      case v1::InvokeRequest::WARM:
        counts[1] += mode.invocations();
        break;
      default:
        counts[2] += mode.invocations();
        break;
    }
  }
  return absl::StrCat(counts[0], "/", counts[1], "/", counts[2]);
}

}  // namespace

std::string FormatWorkers(const v1::ListWorkersResponse& response) {
  if (response.workers().empty()) {
    return "No functions registered. (swiftctl register NAME --library=...)\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::WorkerInfo& worker : response.workers()) {
    std::vector<std::string> peers;
    for (const v1::FunctionPeer& peer : worker.peers()) {
      peers.push_back(absl::StrCat(peer.host(), "/", peer.service()));
    }
    rows.push_back(
        {worker.function(), absl::StrCat(worker.worker_pid()), worker.state(),
         absl::StrCat(worker.invocations()), absl::StrCat(worker.failures()),
         ByMode(worker),
         absl::StrCat(worker.instances(), "/", worker.max_instances(), " (",
                      worker.busy_instances(), " busy, ",
                      worker.spare_instances(), " spare)"),
         absl::StrCat(worker.prepared_sets()),
         absl::StrCat(worker.forks(), " (", worker.spare_hits(), " spare)"),
         worker.uid() == 0 ? "swiftd" : absl::StrCat(worker.uid()),
         peers.empty() ? "-" : absl::StrJoin(peers, ","),
         worker.library_path()});
  }
  return FormatTable({"FUNCTION", "WORKER", "STATE", "INVOCATIONS", "FAILURES",
                      "COLD/WARM/FORK", "INSTANCES", "QP SETS", "FORKS", "UID",
                      "PEERS", "LIBRARY"},
                     rows);
}

std::string FormatRegistered(const v1::RegisterFunctionResponse& registered) {
  return absl::StrCat("worker pid ", registered.worker_pid(), " ready in ",
                      registered.worker_startup_us(), " us\n");
}

std::string FormatUnregistered(
    const v1::UnregisterFunctionResponse& unregistered) {
  return absl::StrCat("worker pid ", unregistered.worker_pid(), " stopped\n");
}

std::string FormatInvoked(const v1::InvokeResponse& invoked) {
  return absl::StrCat(invoked.result(), "\n(",
                      v1::InvokeRequest::Mode_Name(invoked.served_by()),
                      ", instance pid ", invoked.instance_pid(), ", ",
                      invoked.total_us(), " us served, function ",
                      invoked.function_us(), " us)\n");
}

std::string FormatJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return "{}\n";
  }
  return json + "\n";
}

}  // namespace swift::swiftctl
