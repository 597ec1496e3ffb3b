// soak_client: one client process of the soak (`tools/bench/run soak`).
//
//   soak_client --role=register --socket=B.sock --function=soak_write
//       --library=/abs/write_function.so --host=A_IP:PORT --sink=sink
//   soak_client --role=client --socket=B.sock --host=A_IP:PORT
//       --service=soak --function=soak_write --cycles=50 --slot=3
//
// register: registers `function` (write_function.so: a verified RDMA WRITE
// to `sink` on `host`) with short idle expiry, so an idle swiftd returns to
// the same state before and after the soak; prints "registered PID".
// client: runs `cycles` cycles, each one of
//   connect  Session::Connect to `service` on `host`, one 64 B RDMA WRITE
//            into the service's buffer at slot `slot` (a 128 B slice no
//            other live client uses), an RDMA READ back, a compare, Close;
//   fork     Client::Invoke of `function`, InvokeMode::kFork;
//   warm     the same, InvokeMode::kWarm;
// chosen at random with the weights --connect_weight, --fork_weight and
// --warm_weight. Each finished cycle is one line on stdout, written with
// one write(2) so that a SIGKILLed client has reported every cycle it
// finished: "C US", "F US" or "W US" for success (US: the cycle's wall
// time in microseconds), "E KIND CODE MESSAGE" for a failure (KIND: C, F,
// W, or S for the set-up of the session or client).
// Exits 0 when every cycle succeeded, 1 otherwise.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "swift/client.h"
#include "swift/session.h"
#include "tools/bench/write_read_back.h"

ABSL_FLAG(std::string, role, "client", "register or client.");
ABSL_FLAG(std::string, socket, "/run/swift/swiftd.sock", "Local swiftd.");
ABSL_FLAG(std::string, host, "", "The service host's swiftd, ip:port.");
ABSL_FLAG(std::string, service, "soak", "Client: the service to connect to.");
ABSL_FLAG(std::string, sink, "sink", "Register: the function's peer service.");
ABSL_FLAG(std::string, function, "soak_write", "The function's name.");
ABSL_FLAG(std::string, library, "", "Register: the function library.");
ABSL_FLAG(int, idle_timeout_ms, 3000, "Register: idle instances exit after.");
ABSL_FLAG(int, cycles, 50, "Client: cycles to run.");
ABSL_FLAG(int, slot, 0, "Client: 128 B slice of the service's buffer.");
ABSL_FLAG(int, connect_weight, 2, "Client: weight of connect cycles.");
ABSL_FLAG(int, fork_weight, 1, "Client: weight of fork invocations.");
ABSL_FLAG(int, warm_weight, 1, "Client: weight of warm invocations.");
ABSL_FLAG(uint64_t, seed, 0, "Client: random seed; 0 = from the pid.");

namespace {

// Bytes written and read back per connection.
constexpr size_t kPayload = swift::bench::kReadBackBytes;
constexpr size_t kSlotBytes = 2 * kPayload;
// What the function writes and reads back; every invocation writes the
// same bytes at the same place, so concurrent instances cannot disagree.
const std::string& InvokePayload() {
  static const std::string* payload = new std::string(kPayload, 's');
  return *payload;
}

// One line on stdout in one write(2): survives a SIGKILL right after.
void Report(const std::string& line) {
  const std::string out = line + "\n";
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = write(STDOUT_FILENO, out.data() + done, out.size() - done);
    if (n <= 0) {
      return;
    }
    done += static_cast<size_t>(n);
  }
}

void ReportError(char kind, const absl::Status& status) {
  // One line per failure: newlines in the message would split it.
  Report(absl::StrCat("E ", std::string(1, kind), " ",
                      absl::StatusCodeToString(status.code()), " ",
                      absl::StrReplaceAll(status.message(), {{"\n", " "}})));
}

// Connect, write our bytes into our slot, read them back, compare, close.
absl::Status ConnectCycle(swift::Session& session, int cycle) {
  absl::StatusOr<std::unique_ptr<swift::Connection>> connection =
      session.Connect(absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_service),
                      absl::Seconds(10));
  if (!connection.ok()) {
    return connection.status();
  }
  swift::Connection& c = **connection;
  const size_t remote = static_cast<size_t>(absl::GetFlag(FLAGS_slot)) *
                        kSlotBytes;
  absl::Status verified = [&]() -> absl::Status {
    if (c.buffer_size() < kSlotBytes || remote + kPayload > c.remote().length) {
      return absl::InvalidArgumentError(
          absl::StrCat("slot ", absl::GetFlag(FLAGS_slot),
                       " is past the service's buffer of ", c.remote().length,
                       " bytes: use a smaller --slot"));
    }
    return swift::bench::WriteAndReadBack(
        c, 0, remote, static_cast<char>('a' + cycle % 26),
        absl::StrCat("pid", getpid(), "-cycle", cycle));
  }();
  absl::Status closed = c.Close();
  return verified.ok() ? closed : verified;
}

absl::Status InvokeCycle(swift::Client& client, swift::InvokeMode mode) {
  swift::Invocation invocation;
  invocation.function = absl::GetFlag(FLAGS_function);
  invocation.payload = InvokePayload();
  invocation.mode = mode;
  invocation.timeout = absl::Seconds(30);
  absl::StatusOr<swift::InvokeResult> result = client.Invoke(invocation);
  if (!result.ok()) {
    return result.status();
  }
  const std::string expected = absl::StrCat("ok ", kPayload);
  if (result->result != expected) {
    return absl::DataLossError(absl::StrCat("the function returned '",
                                            result->result, "', not '",
                                            expected, "'"));
  }
  return absl::OkStatus();
}

int RunRegister() {
  swift::ClientOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "soak-register";
  auto client = swift::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "soak_client: " << client.status() << "\n";
    return 1;
  }
  swift::FunctionSpec spec;
  spec.name = absl::GetFlag(FLAGS_function);
  spec.library_path = absl::GetFlag(FLAGS_library);
  spec.peers.push_back({absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_sink)});
  spec.max_instances = 8;
  spec.prepared = 4;
  spec.spare_instances = 1;
  spec.idle_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_idle_timeout_ms));
  auto registered = (*client)->RegisterFunction(spec);
  if (!registered.ok()) {
    std::cerr << "soak_client: registering " << spec.name << ": "
              << registered.status() << "\n";
    return 1;
  }
  std::cout << "registered " << registered->worker_pid << std::endl;
  return 0;
}

int RunClient() {
  const int cycles = absl::GetFlag(FLAGS_cycles);
  const int weights[3] = {absl::GetFlag(FLAGS_connect_weight),
                          absl::GetFlag(FLAGS_fork_weight),
                          absl::GetFlag(FLAGS_warm_weight)};
  if (cycles < 0 || absl::GetFlag(FLAGS_host).empty() || weights[0] < 0 ||
      weights[1] < 0 || weights[2] < 0 ||
      weights[0] + weights[1] + weights[2] == 0 || absl::GetFlag(FLAGS_slot) < 0) {
    std::cerr << "soak_client: --host, --cycles >= 0, --slot >= 0 and "
                 "non-negative weights, not all zero\n";
    return 2;
  }
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  std::mt19937_64 random(seed != 0 ? seed : static_cast<uint64_t>(getpid()));
  std::discrete_distribution<int> pick({static_cast<double>(weights[0]),
                                        static_cast<double>(weights[1]),
                                        static_cast<double>(weights[2])});
  // Set up lazily: a client whose cycles are all invokes opens no device.
  std::unique_ptr<swift::Session> session;
  std::unique_ptr<swift::Client> client;
  int failed = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    const int kind = pick(random);
    if (kind == 0 && session == nullptr) {
      swift::SessionOptions options;
      options.socket_path = absl::GetFlag(FLAGS_socket);
      options.client_name = "soak_client";
      options.buffer_bytes = 4096;
      options.pool_low = 1;
      options.pool_high = 2;
      auto created = swift::Session::Create(options);
      if (!created.ok()) {
        ReportError('S', created.status());
        return 1;
      }
      session = *std::move(created);
    }
    if (kind != 0 && client == nullptr) {
      swift::ClientOptions options;
      options.socket_path = absl::GetFlag(FLAGS_socket);
      options.client_name = "soak_client";
      auto connected = swift::Client::Connect(options);
      if (!connected.ok()) {
        ReportError('S', connected.status());
        return 1;
      }
      client = *std::move(connected);
    }
    const char tag = "CFW"[kind];
    const absl::Time begin = absl::Now();
    const absl::Status status =
        kind == 0 ? ConnectCycle(*session, cycle)
                  : InvokeCycle(*client, kind == 1 ? swift::InvokeMode::kFork
                                                   : swift::InvokeMode::kWarm);
    if (status.ok()) {
      Report(absl::StrCat(std::string(1, tag), " ",
                          absl::ToInt64Microseconds(absl::Now() - begin)));
    } else {
      ++failed;
      ReportError(tag, status);
    }
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "register") {
    return RunRegister();
  }
  if (role == "client") {
    return RunClient();
  }
  std::cerr << "soak_client: --role must be register or client\n";
  return 2;
}
