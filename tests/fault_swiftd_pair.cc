// FaultPairTest implementation; see fault_swiftd_pair.h.
#include "tests/fault_swiftd_pair.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/testing/eventually.h"
#include "common/testing/rdma_test_env.h"
#include "common/testing/unix_socket_testing.h"
#include "tests/fault_client_process.h"
#include "tests/fault_observations.h"
#include "tests/fault_processes.h"
#include "tests/peer_secret_file.h"

namespace swift::testing {
namespace {

FaultHost MakeHost(const std::string& dir, const std::string& name,
                   const char* prefix, const std::string& default_device,
                   int peer_port) {
  FaultHost host;
  host.name = name;
  host.ip = EnvOr(absl::StrCat(prefix, "IP").c_str(), "");
  host.device = EnvOr(absl::StrCat(prefix, "DEV").c_str(), default_device);
  host.netdev = EnvOr(absl::StrCat(prefix, "NETDEV").c_str(), "");
  host.socket = absl::StrCat(dir, "/", name, ".sock");
  host.peer_address = absl::StrCat(host.ip, ":", peer_port);
  host.log = absl::StrCat(dir, "/", name, ".log");
  return host;
}

// The last `bytes` of a log, for a failure's message.
std::string LogTail(const std::string& path, size_t bytes = 3000) {
  const std::string log = ReadWholeFile(path);
  return log.size() <= bytes ? log : "..." + log.substr(log.size() - bytes);
}

}  // namespace

FaultPairTest::FaultPairTest(int peer_port)
    : a_(MakeHost(dir_.path(), "A", "RXE_A_", "rxeA", peer_port)),
      b_(MakeHost(dir_.path(), "B", "RXE_B_", "rxeB", peer_port)) {}

void FaultPairTest::SetUp() {
  if (EnvOr("RXE_HOSTS", "") != "2") {
    if (RdmaRequired()) {
      FAIL() << "two hosts needed: run with tools/rxe-vm/run --hosts 2";
    }
    GTEST_SKIP() << "needs the two-host Soft-RoCE guest";
  }
  // The cluster's secret, as an operator deploys it (0600, swiftd's own).
  const std::string secret = dir_.path() + "/peer_secret";
  const absl::Status written = WritePeerSecretFile(secret);
  ASSERT_TRUE(written.ok()) << written;
  const std::string worker =
      Absolute(RunfilePath("daemon/worker/swift_worker"));
  for (FaultHost* host : {&a_, &b_}) {
    host->flags.insert(
        host->flags.begin(),
        {"--devices=" + host->device, "--peer_address=" + host->peer_address,
         "--peer_secret_file=" + secret,
         absl::StrCat("--peer_allow=", a_.ip, ",", b_.ip),
         // Registrations in memory only: no state on the guest's disk.
         "--state_dir=", "--worker_binary=" + worker});
  }
  std::string error;
  verbs_before_swiftds_ = KernelVerbsObjects(&error);
  ASSERT_FALSE(verbs_before_swiftds_.empty()) << error;
  for (FaultHost* host : {&a_, &b_}) {
    absl::Status started = StartSwiftd(*host);
    ASSERT_TRUE(started.ok()) << started;
  }
}

void FaultPairTest::TearDown() {
  StopService();
  for (FaultHost* host : {&b_, &a_}) {
    if (host->process != nullptr) {
      StopSwiftd(*host);
    }
  }
}

absl::Status FaultPairTest::StartSwiftd(FaultHost& host) {
  const std::string notify =
      absl::StrCat(dir_.path(), "/notify-", host.name, ++host.starts);
  host.notify = BindUnixSocket(notify, SOCK_DGRAM, /*listen_too=*/false);
  timeval timeout = {30, 0};
  setsockopt(host.notify.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
             sizeof(timeout));
  // Each start appends to one log: a restart's reasons stay readable.
  SwiftdProcess::Options options;
  options.socket = host.socket;
  options.log = absl::StrCat(host.log, ".", host.starts);
  options.flags = host.flags;
  options.notify_socket = notify;
  host.process = std::make_unique<SwiftdProcess>(options);
  while (true) {
    char buffer[512] = {};
    const ssize_t size = recv(host.notify.get(), buffer, sizeof(buffer) - 1, 0);
    if (size <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("swiftd ", host.name, " not ready within 30 s:\n",
                       LogTail(options.log)));
    }
    const std::string message(buffer, static_cast<size_t>(size));
    if (absl::StartsWith(message, "READY=1")) {
      return absl::OkStatus();
    }
    if (absl::StartsWith(message, "STATUS=Failed")) {
      return absl::InternalError(absl::StrCat(
          "swiftd ", host.name, ": ", message, "\n", LogTail(options.log)));
    }
  }
}

void FaultPairTest::KillSwiftd(FaultHost& host) {
  if (host.process != nullptr) {
    host.process->StopWith(SIGKILL);
    host.process.reset();
  }
}

int FaultPairTest::StopSwiftd(FaultHost& host) {
  const int status = host.process->StopWith(SIGTERM);
  host.process.reset();
  return status;
}

std::unique_ptr<ControlClient> FaultPairTest::Control(const FaultHost& host) {
  ClientOptions options;
  options.socket_path = host.socket;
  options.attach = false;
  auto client = ControlClient::Connect(options);
  if (!client.ok()) {
    return nullptr;
  }
  return *std::move(client);
}

std::string FaultPairTest::StateOf(const FaultHost& host) {
  std::unique_ptr<ControlClient> client = Control(host);
  if (client == nullptr) {
    return "unreachable: no ControlClient";
  }
  auto status = client->GetStatus();
  auto connections = client->ListConnections();
  auto services = client->ListServices();
  auto workers = client->ListWorkers();
  auto tenants = client->ListTenants();
  for (const absl::Status& s :
       {status.status(), connections.status(), services.status(),
        workers.status(), tenants.status()}) {
    if (!s.ok()) {
      return absl::StrCat("unreachable: ", s.ToString());
    }
  }
  std::vector<std::string> rows;
  rows.push_back(absl::StrCat("clients ", status->clients_count()));
  std::vector<std::string> connection_rows;
  for (const auto& c : connections->connections()) {
    connection_rows.push_back(
        absl::StrCat("connection ", c.service(), " of ", c.client_name()));
  }
  std::sort(connection_rows.begin(), connection_rows.end());
  rows.insert(rows.end(), connection_rows.begin(), connection_rows.end());
  rows.push_back(absl::StrCat("handshakes ",
                              connections->admission().in_flight(), " queued ",
                              connections->admission().queued()));
  for (const auto& s : services->services()) {
    rows.push_back(absl::StrCat("service ", s.name(), " connections ",
                                s.connections(), " pooled ", s.pooled_qps()));
  }
  for (const auto& w : workers->workers()) {
    // Instances and connection sets as the worker reports them; idle
    // instances retire after the function's idle timeout.
    rows.push_back(absl::StrCat(
        "worker ", w.function(), " pid ", w.worker_pid(), " ", w.state(),
        ": instances ", w.instances(), " busy ", w.busy_instances(), " spare ",
        w.spare_instances(), " prepared sets ", w.prepared_sets()));
  }
  for (const auto& t : tenants->tenants()) {
    rows.push_back(absl::StrCat(
        "tenant ", t.uid(), ": connections ", t.connections(), " services ",
        t.services(), " pooled ", t.pooled_endpoints(), " handshakes ",
        t.handshakes(), " queued ", t.queued_connects(), " functions ",
        t.functions(), " instances ", t.instances(), " cold ",
        t.cold_workers()));
  }
  rows.push_back(absl::StrCat("workers ", tenants->workers()));
  // Processes swiftd started and has not reaped (workers, zombies too).
  rows.push_back(absl::StrCat(
      "child processes ", CountChildren(static_cast<pid_t>(status->pid()))));
  return absl::StrJoin(rows, "\n");
}

void FaultPairTest::TakeBaseline() {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (true) {
    baseline_a_ = StateOf(a_);
    baseline_b_ = StateOf(b_);
    baseline_verbs_ = KernelVerbsObjects();
    absl::SleepFor(absl::Seconds(1));
    if ((StateOf(a_) == baseline_a_ && StateOf(b_) == baseline_b_ &&
         KernelVerbsObjects() == baseline_verbs_) ||
        absl::Now() > deadline) {
      break;
    }
  }
  ASSERT_FALSE(absl::StartsWith(baseline_a_, "unreachable")) << baseline_a_;
  ASSERT_FALSE(absl::StartsWith(baseline_b_, "unreachable")) << baseline_b_;
  ASSERT_FALSE(baseline_verbs_.empty());
}

void FaultPairTest::ExpectBaseline(const std::string& what,
                                   absl::Duration limit) {
  std::string state_a;
  std::string state_b;
  const bool settled = Eventually(
      [&] {
        state_a = StateOf(a_);
        state_b = StateOf(b_);
        return state_a == baseline_a_ && state_b == baseline_b_;
      },
      limit);
  EXPECT_TRUE(settled) << what << ": swiftd state differs from the baseline\n"
                       << "A before:\n"
                       << baseline_a_ << "\nA now:\n"
                       << state_a << "\nB before:\n"
                       << baseline_b_ << "\nB now:\n"
                       << state_b;
  ExpectVerbsObjects(baseline_verbs_, what, limit);
}

void FaultPairTest::ExpectVerbsObjects(const VerbsCounts& expected,
                                       const std::string& what,
                                       absl::Duration limit) {
  VerbsCounts now;
  const bool settled = Eventually(
      [&] {
        now = KernelVerbsObjects();
        return now == expected;
      },
      limit);
  Observe(absl::StrCat(what, ": kernel verbs objects before [",
                       Describe(expected), "], after [", Describe(now), "]",
                       settled ? "" : " (NOT back)"));
  EXPECT_TRUE(settled) << what << ": kernel verbs objects (before->now) "
                       << DescribeDifference(expected, now) << "\n"
                       << KernelQpListing();
}

absl::Status FaultPairTest::StartService(const FaultHost& host,
                                         const std::string& service) {
  StopService();
  SessionOptions options;
  options.socket_path = host.socket;
  options.client_name = "fault_service";
  options.pool_low = 4;
  options.pool_high = 4;
  options.buffer_bytes = 64 * 1024;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(options);
  if (!session.ok()) {
    return session.status();
  }
  absl::StatusOr<std::unique_ptr<Listener>> listener =
      (*session)->Listen(service, 4);
  if (!listener.ok()) {
    return listener.status();
  }
  service_session_ = *std::move(session);
  listener_ = *std::move(listener);
  service_name_ = service;
  stopping_ = false;
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void FaultPairTest::StopService() {
  stopping_ = true;
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  {
    absl::MutexLock lock(&mu_);
    accepted_.clear();
    service_buffer_ = nullptr;
  }
  listener_.reset();
  service_session_.reset();
}

void FaultPairTest::AcceptLoop() {
  while (!stopping_) {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        listener_->Accept(absl::Milliseconds(20));
    absl::MutexLock lock(&mu_);
    if (connection.ok()) {
      service_buffer_ = (*connection)->buffer();
      accepted_.push_back(*std::move(connection));
    }
    accepted_.erase(
        std::remove_if(accepted_.begin(), accepted_.end(),
                       [](const auto& c) { return c->peer_closed(); }),
        accepted_.end());
  }
}

std::string FaultPairTest::ServiceBytes(size_t offset, size_t length) {
  absl::MutexLock lock(&mu_);
  if (service_buffer_ == nullptr) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(service_buffer_) + offset,
                     length);
}

int FaultPairTest::ServiceConnections() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(accepted_.size());
}

std::vector<std::string> FaultPairTest::ConnectFlags(
    const FaultHost& client_host, const FaultHost& service_host,
    const std::string& service) const {
  return {"--mode=connect", "--socket=" + client_host.socket,
          "--host=" + service_host.peer_address, "--service=" + service};
}

absl::Status FaultPairTest::DataFlows(const FaultHost& client_host,
                                      const FaultHost& service_host,
                                      const std::string& tag) {
  static int round = 0;
  const std::string text =
      absl::StrCat("data from a new client on ", client_host.name, " after ",
                   tag, " #", ++round);
  std::vector<std::string> flags =
      ConnectFlags(client_host, service_host, service_name_);
  flags.push_back("--write=" + text);
  flags.push_back("--offset=4096");
  FaultClientProcess client(flags);
  if (!client.WaitForStage("hello")) {
    return absl::UnavailableError("no session: " + client.output());
  }
  client.Continue();
  if (!client.WaitForStage("connected")) {
    return absl::UnavailableError("no connection: " + client.output());
  }
  // The WRITE completed at the client: the bytes are in the service's
  // buffer (RC: completion after the remote acknowledged it).
  // (The service's accept thread may not have picked the connection up
  // yet when the service never had one before: the buffer is known then.)
  std::string landed;
  Eventually([&] {
    landed = ServiceBytes(4096, text.size());
    return landed == text;
  });
  client.Continue();  // -> closing
  client.Continue();  // -> closed
  client.Continue();  // -> exit
  const int exit_status = client.Wait();
  if (landed != text) {
    return absl::DataLossError(absl::StrCat(
        "expected '", text, "' in the service's buffer, got '", landed, "'"));
  }
  if (exit_status != 0) {
    return absl::InternalError(
        absl::StrCat("the client exited ", exit_status, ": ", client.output()));
  }
  return absl::OkStatus();
}

}  // namespace swift::testing
