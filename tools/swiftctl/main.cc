// swiftctl: inspect and manage a running swiftd.
//
//   swiftctl [--socket=PATH] [--json] COMMAND (see kUsage)
//
// Exit codes: 0 success, 1 swiftd unreachable or the call failed, 2 usage.
#include <pwd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/control/control_client.h"
#include "common/version.h"
#include "proto/swift.pb.h"
#include "tools/swiftctl/format.h"
#include "tools/swiftctl/format_devices.h"
#include "tools/swiftctl/format_leases.h"
#include "tools/swiftctl/lease_listings.h"
#include "client/fast_path_client.h"
#include "common/unix_socket.h"

ABSL_FLAG(std::string, socket, swift::kDefaultSocketPath,
          "swiftd's Control API socket.");
ABSL_FLAG(bool, json, false, "Print JSON instead of a table.");
ABSL_FLAG(int, timeout_ms, 5000, "Deadline of each call to swiftd.");
ABSL_FLAG(std::string, mode, "fork", "invoke: cold, warm or fork.");
ABSL_FLAG(std::string, payload, "", "invoke: the payload (text).");
ABSL_FLAG(int, invoke_timeout_ms, 10000,
          "invoke: the function is killed after this.");
ABSL_FLAG(std::string, library, "", "register: the function's .so (absolute).");
ABSL_FLAG(std::vector<std::string>, connect, {},
          "register: peers every instance connects to, as host/service.");
ABSL_FLAG(int, max_instances, 8, "register: instances at most.");
ABSL_FLAG(int, idle_timeout_ms, 60000, "register: idle instances exit after.");
ABSL_FLAG(int, spares, 1,
          "register: instances forked ahead of fork invocations (0: fork on "
          "arrival).");
ABSL_FLAG(int, prepared, 2, "register: connected QP sets kept for forks.");
ABSL_FLAG(std::string, user, "",
          "register: run the worker as this user (name or uid; swiftd must "
          "be root).");
ABSL_FLAG(uint64_t, memory_limit_bytes, 0,
          "register: address-space limit of the worker and its instances.");

namespace {

// (uid, primary gid) of `user`, a name or a number.
absl::StatusOr<std::pair<uint32_t, uint32_t>> LookUpUser(
    const std::string& user) {
  passwd entry;
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  uint32_t uid = 0;
  const bool numeric = absl::SimpleAtoi(user, &uid);
  const int error =
      numeric ? getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)
              : getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(),
                           &found);
  if (error == 0 && found != nullptr) {
    return std::make_pair(entry.pw_uid, entry.pw_gid);
  }
  if (numeric) {
    // No entry: swiftd then asks for a gid; 0 lets it say so clearly.
    return std::make_pair(uid, 0u);
  }
  return absl::NotFoundError(absl::StrCat("--user: no user '", user, "'"));
}

constexpr char kUsage[] =
    "swiftctl: inspect and manage swiftd, the Swift RDMA daemon.\n"
    "Usage: swiftctl [--socket=PATH] [--json] [--timeout_ms=N] COMMAND\n"
    "Commands:\n"
    "  status    is swiftd alive; version, uptime, pid, devices, clients\n"
    "  devices   the RDMA devices swiftd holds: state, provider, ports, GIDs,\n"
    "            capabilities (and why not), limits; kept current\n"
    "  peers     other hosts' swiftds and the metadata cached about them\n"
    "  services  services listening here, with their QP pools\n"
    "  pools     ready QPs per service, handshake admission state\n"
    "  connections  connections brokered for local clients\n"
    "  tenants   each tenant's (uid's) use against its quotas\n"
    "  workers   registered functions, their workers and instances\n"
    "            (services, pools, connections, tenants and workers show a\n"
    "            user other than root only its own)\n"
    "  register NAME --library=/abs/f.so [--connect=host/service,...]\n"
    "            [--user=U] [--memory_limit_bytes=N] [--spares=1]\n"
    "            [--max_instances=8] [--idle_timeout_ms=N] [--prepared=2]\n"
    "            start a function's worker (see swift/function.h)\n"
    "  unregister NAME  stop a function's worker and forget the function\n"
    "  invoke NAME [--mode=fork|warm|cold] [--payload=TEXT]\n"
    "            run a function and print its result\n"
    "  leases    memory leases: id, tenant, holder, size, huge pages, age;\n"
    "            totals, pools and quotas (a user other than root sees its\n"
    "            own)\n"
    "  clients   attached fast path clients: pid, uid, name, kind, since,\n"
    "            leases held (a user other than root sees its own)\n"
    "  version   swiftctl's own version and Control API version\n";

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Fail(const absl::Status& status) {
  std::cerr << "swiftctl: " << status.message() << "\n";
  return kExitFailure;
}

template <typename Response>
int Print(const absl::StatusOr<Response>& response,
          std::string (*format_table)(const Response&)) {
  if (!response.ok()) {
    return Fail(response.status());
  }
  std::cout << (absl::GetFlag(FLAGS_json)
                    ? swift::swiftctl::FormatJson(*response)
                    : format_table(*response));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> arguments = absl::ParseCommandLine(argc, argv);
  if (arguments.size() < 2) {
    std::cerr << "swiftctl: no command given\n" << kUsage;
    return kExitUsage;
  }
  const std::string command = arguments[1];
  const bool takes_name =
      command == "invoke" || command == "register" || command == "unregister";
  if (arguments.size() != (takes_name ? 3u : 2u)) {
    std::cerr << "swiftctl: '" << command << "' takes "
              << (takes_name ? "one function name" : "no arguments") << "\n"
              << kUsage;
    return kExitUsage;
  }
  if (command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "version") {
    std::cout << "swiftctl " << swift::kSwiftVersion << " (Control API v"
              << swift::kControlApiVersion << ")\n";
    return 0;
  }
  const std::vector<std::string> kCommands = {
      "status",      "devices", "peers",    "services", "pools",
      "connections", "workers", "register", "invoke",   "unregister",
      "tenants",     "leases",  "clients"};
  if (std::find(kCommands.begin(), kCommands.end(), command) ==
      kCommands.end()) {
    std::cerr << "swiftctl: unknown command '" << command << "'\n" << kUsage;
    return kExitUsage;
  }
  if (absl::GetFlag(FLAGS_timeout_ms) <= 0) {
    std::cerr << "swiftctl: --timeout_ms must be positive\n";
    return kExitUsage;
  }

  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (command == "invoke" && mode != "cold" && mode != "warm" &&
      mode != "fork") {
    std::cerr << "swiftctl: --mode is cold, warm or fork, got '" << mode
              << "'\n";
    return kExitUsage;
  }
  if (command == "leases" || command == "clients") {
    // Fast path only: swiftd answers per caller (SO_PEERCRED).
    absl::StatusOr<std::unique_ptr<swift::FastPathClient>> fast_path =
        swift::FastPathClient::Connect(
            swift::FastPathSocketPath(absl::GetFlag(FLAGS_socket)),
            "swiftctl");
    if (!fast_path.ok()) {
      return Fail(fast_path.status());
    }
    if (command == "leases") {
      return Print(swift::swiftctl::ListLeases(**fast_path),
                   &swift::swiftctl::FormatLeases);
    }
    return Print(swift::swiftctl::ListClients(**fast_path),
                 &swift::swiftctl::FormatClients);
  }
  swift::ClientOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "swiftctl";
  options.attach = false;
  options.connect_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  options.call_timeout = options.connect_timeout;
  // The management client: swiftd's answers as sent, printed as they are.
  absl::StatusOr<std::unique_ptr<swift::ControlClient>> client =
      swift::ControlClient::Connect(options);
  if (!client.ok()) {
    return Fail(client.status());
  }
  if (command == "status") {
    return Print((*client)->GetStatus(), &swift::swiftctl::FormatStatus);
  }
  if (command == "devices") {
    return Print((*client)->ListDevices(), &swift::swiftctl::FormatDevices);
  }
  if (command == "peers") {
    return Print((*client)->ListPeers(), &swift::swiftctl::FormatPeers);
  }
  if (command == "services") {
    return Print((*client)->ListServices(), &swift::swiftctl::FormatServices);
  }
  if (command == "tenants") {
    return Print((*client)->ListTenants(), &swift::swiftctl::FormatTenants);
  }
  if (command == "workers") {
    return Print((*client)->ListWorkers(), &swift::swiftctl::FormatWorkers);
  }
  if (command == "register") {
    swift::v1::RegisterFunctionRequest request;
    request.set_name(arguments[2]);
    request.set_library_path(absl::GetFlag(FLAGS_library));
    for (const std::string& target : absl::GetFlag(FLAGS_connect)) {
      const size_t slash = target.rfind('/');
      if (slash == std::string::npos || slash == 0 ||
          slash + 1 == target.size()) {
        std::cerr << "swiftctl: --connect takes host/service, got '" << target
                  << "'\n";
        return kExitUsage;
      }
      swift::v1::FunctionPeer* peer = request.add_peers();
      peer->set_host(target.substr(0, slash));
      peer->set_service(target.substr(slash + 1));
    }
    request.set_max_instances(absl::GetFlag(FLAGS_max_instances));
    request.set_idle_timeout_ms(absl::GetFlag(FLAGS_idle_timeout_ms));
    request.set_spare_instances(absl::GetFlag(FLAGS_spares));
    request.set_prepared(absl::GetFlag(FLAGS_prepared));
    request.set_memory_limit_bytes(absl::GetFlag(FLAGS_memory_limit_bytes));
    if (const std::string user = absl::GetFlag(FLAGS_user); !user.empty()) {
      absl::StatusOr<std::pair<uint32_t, uint32_t>> ids = LookUpUser(user);
      if (!ids.ok()) {
        std::cerr << "swiftctl: " << ids.status().message() << "\n";
        return kExitUsage;
      }
      request.set_uid(ids->first);
      request.set_gid(ids->second);
      request.set_run_as_set(true);
    }
    return Print((*client)->RegisterFunction(request),
                 &swift::swiftctl::FormatRegistered);
  }
  if (command == "unregister") {
    return Print((*client)->UnregisterFunction(arguments[2]),
                 &swift::swiftctl::FormatUnregistered);
  }
  if (command == "invoke") {
    swift::v1::InvokeRequest request;
    request.set_function(arguments[2]);
    request.set_payload(absl::GetFlag(FLAGS_payload));
    request.set_mode(mode == "cold"   ? swift::v1::InvokeRequest::COLD
                     : mode == "warm" ? swift::v1::InvokeRequest::WARM
                                      : swift::v1::InvokeRequest::FORK);
    request.set_timeout_ms(absl::GetFlag(FLAGS_invoke_timeout_ms));
    return Print((*client)->Invoke(request), &swift::swiftctl::FormatInvoked);
  }
  if (command == "connections") {
    return Print((*client)->ListConnections(),
                 &swift::swiftctl::FormatConnections);
  }
  // pools: the services' pools and the admission state together.
  auto services = (*client)->ListServices();
  auto connections = (*client)->ListConnections();
  if (!services.ok() || !connections.ok()) {
    return Fail(services.ok() ? connections.status() : services.status());
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::string services_json = swift::swiftctl::FormatJson(*services);
    std::string admission_json =
        swift::swiftctl::FormatJson(connections->admission());
    services_json.pop_back();
    admission_json.pop_back();
    std::cout << "{\"services\":" << services_json
              << ",\"admission\":" << admission_json << "}\n";
  } else {
    std::cout << swift::swiftctl::FormatPools(*services, *connections);
  }
  return 0;
}
