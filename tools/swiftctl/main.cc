// swiftctl: inspect and manage a running swiftd.
//
//   swiftctl [--socket=PATH] [--json] COMMAND (`swiftctl --help`: help.cc)
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
#include "absl/flags/usage_config.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/control/control_client.h"
#include "client/fast_path_client.h"
#include "common/unix_socket.h"
#include "common/version.h"
#include "proto/swift.pb.h"
#include "tools/swiftctl/format.h"
#include "tools/swiftctl/format_devices.h"
#include "tools/swiftctl/format_directory.h"
#include "tools/swiftctl/format_irq.h"
#include "tools/swiftctl/format_leases.h"
#include "tools/swiftctl/help.h"
#include "tools/swiftctl/lease_listings.h"
#include "tools/swiftctl/top.h"

ABSL_FLAG(std::string, socket, swift::kDefaultSocketPath,
          "swiftd's Control API socket.");
ABSL_FLAG(bool, json, false, "print JSON instead of a table.");
ABSL_FLAG(int, timeout_ms, 5000,
          "deadline of each call to swiftd, in milliseconds.");
ABSL_FLAG(std::string, mode, "fork", "invoke: cold, warm or fork.");
ABSL_FLAG(std::string, payload, "", "invoke: the payload (text).");
ABSL_FLAG(int, invoke_timeout_ms, 10000,
          "invoke: the function is killed after this many milliseconds.");
ABSL_FLAG(std::string, library, "",
          "register: the function's shared library (an absolute path).");
ABSL_FLAG(std::vector<std::string>, connect, {},
          "register: peers every instance connects to, as host/service, "
          "comma-separated.");
ABSL_FLAG(int, max_instances, 8,
          "register: instances (forked children) at most.");
ABSL_FLAG(int, idle_timeout_ms, 60000,
          "register: idle instances exit after this many milliseconds.");
ABSL_FLAG(int, spares, 1,
          "register: instances forked ahead of fork invocations (0: fork on "
          "arrival).");
ABSL_FLAG(int, prepared, 2, "register: connected QP sets kept for forks.");
ABSL_FLAG(std::string, user, "",
          "register: run the worker as this user (name or uid; swiftd must "
          "be root).");
ABSL_FLAG(uint64_t, memory_limit_bytes, 0,
          "register: address-space limit of the worker and its instances, "
          "in bytes (0: none).");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(1),
          "top: time between two samples, e.g. 500ms or 2s; the rates shown "
          "are over it.");
ABSL_FLAG(bool, once, false,
          "top: print one frame (two samples --interval apart) as plain "
          "lines and exit.");

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

// `swiftctl directory` against this machine's clock.
std::string FormatDirectoryNow(
    const swift::v1::ListDirectoryResponse& response) {
  return swift::swiftctl::FormatDirectory(response,
                                          absl::ToUnixMillis(absl::Now()));
}

}  // namespace

int main(int argc, char** argv) {
  // absl prefixes this with the program's name (--helpfull).
  absl::SetProgramUsageMessage(
      "inspect and manage swiftd; `swiftctl --help` lists its commands and "
      "flags.");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] {
    return absl::StrCat("swiftctl ", swift::kSwiftVersion, " (Control API v",
                        swift::kControlApiVersion, ")\n");
  };
  absl::SetFlagsUsageConfig(usage_config);
  // absl's --help lists the flags of files named after the program (none
  // here) and exits 1; ours lists swiftctl's own flags and exits 0.
  if (swift::swiftctl::WantsHelp(argc, argv)) {
    std::cout << swift::swiftctl::HelpText();
    return 0;
  }
  std::vector<char*> arguments = absl::ParseCommandLine(argc, argv);
  if (arguments.size() < 2) {
    std::cerr << "swiftctl: no command given\n" << swift::swiftctl::UsageText();
    return kExitUsage;
  }
  const std::string command = arguments[1];
  if (command == "help" && arguments.size() == 2) {
    std::cout << swift::swiftctl::HelpText();
    return 0;
  }
  const bool takes_name =
      command == "invoke" || command == "register" || command == "unregister";
  if (arguments.size() != (takes_name ? 3u : 2u)) {
    std::cerr << "swiftctl: '" << command << "' takes "
              << (takes_name ? "one function name" : "no arguments") << "\n"
              << swift::swiftctl::UsageText();
    return kExitUsage;
  }
  if (command == "version") {
    std::cout << "swiftctl " << swift::kSwiftVersion << " (Control API v"
              << swift::kControlApiVersion << ")\n";
    return 0;
  }
  const std::vector<std::string> kCommands = {
      "status",  "devices",  "peers",  "services",   "pools",   "connections",
      "workers", "register", "invoke", "unregister", "tenants", "leases",
      "clients", "top",      "irq",    "directory"};
  if (std::find(kCommands.begin(), kCommands.end(), command) ==
      kCommands.end()) {
    std::cerr << "swiftctl: unknown command '" << command << "'\n"
              << swift::swiftctl::UsageText();
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
  if (command == "top") {
    if (absl::GetFlag(FLAGS_json)) {
      std::cerr << "swiftctl: top has no JSON output (the listings have)\n";
      return kExitUsage;
    }
    if (absl::GetFlag(FLAGS_interval) <= absl::ZeroDuration()) {
      std::cerr << "swiftctl: --interval must be positive, got "
                << absl::FormatDuration(absl::GetFlag(FLAGS_interval)) << "\n";
      return kExitUsage;
    }
    swift::swiftctl::TopOptions top;
    top.socket_path = absl::GetFlag(FLAGS_socket);
    top.timeout = absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms));
    top.interval = absl::GetFlag(FLAGS_interval);
    top.once = absl::GetFlag(FLAGS_once);
    const absl::Status shown = swift::swiftctl::RunTop(top);
    return shown.ok() ? 0 : Fail(shown);
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
  if (command == "irq") {
    return Print((*client)->ListIrqs(), &swift::swiftctl::FormatIrqs);
  }
  if (command == "directory") {
    return Print((*client)->ListDirectory(), &FormatDirectoryNow);
  }
  if (command == "peers") {
    return Print((*client)->ListPeers(), &swift::swiftctl::FormatPeers);
  }
  if (command == "services") {
    const int shown =
        Print((*client)->ListServices(), &swift::swiftctl::FormatServices);
    if (shown == 0 && !absl::GetFlag(FLAGS_json)) {
      // With a directory, where else each service is offered. (Without
      // one swiftd answers FAILED_PRECONDITION: nothing more to show.)
      absl::StatusOr<swift::v1::ListDirectoryResponse> directory =
          (*client)->ListDirectory();
      if (directory.ok()) {
        std::cout << "\n"
                  << swift::swiftctl::FormatDirectoryServices(*directory);
      }
    }
    return shown;
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
