// Issue 15's scrape test: a real swiftd (the binary, started with
// --metrics_address), a number of observable things done to it over its
// fast path and with swiftctl (brokered connects that succeed and that
// fail with a known reason, a function registered on a stub worker and
// invoked in each mode, one invocation failing), then Debian's real
// Prometheus server scraping it every second: what Prometheus' HTTP API
// answers must be what the test did. promtool checks swiftd's /metrics.
//
// swiftd brokers with itself on loopback (no RDMA device needed): the
// service's endpoints are fake, which the broker does not look into.
// Prometheus and promtool missing is a failure that says to run
// tools/setup. Deadlines are generous (a loaded 2-core machine); nothing
// asserts a time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/seqpacket_socket.h"
#include "common/testing/eventually.h"
#include "common/unix_socket.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "daemon/metrics/testing/http_get.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"
#include "tests/metrics_prometheus.h"
#include "tests/raw_fast_path.h"
#include "tests/swiftd_process.h"

namespace swift {
namespace {

using ::swift::testing::Absolute;
using ::swift::testing::CommandResult;
using ::swift::testing::Eventually;
using ::swift::testing::FreeLoopbackPort;
using ::swift::testing::HttpGet;
using ::swift::testing::HttpResponse;
using ::swift::testing::ListenRaw;
using ::swift::testing::OpenRaw;
using ::swift::testing::PrometheusServer;
using ::swift::testing::RawCall;
using ::swift::testing::RunCommand;
using ::swift::testing::RunfilePath;
using ::swift::testing::SwiftdProcess;
using ::swift::testing::TempDir;

constexpr int kConnects = 5;
constexpr int kFailedConnects = 3;
constexpr int kEndpoints = 16;
// swiftctl's FORK and WARM invocations go on a direct channel to the
// worker (swiftd counts them from the worker's reports); those sent as
// fast path calls go through swiftd (mode, result and latency counted).
constexpr int kChannelForks = 4;
constexpr int kChannelWarms = 2;
constexpr int kSwiftdForks = 3;
constexpr int kSwiftdWarms = 2;

v1::FastRequest ConnectTo(const std::string& service) {
  return testing::RawConnectRequest(service, absl::Seconds(20));
}

// An invocation of function "f" through swiftd, as a fast path call.
v1::FastRequest InvokeF(v1::InvokeRequest::Mode mode,
                        const std::string& payload) {
  return testing::RawInvokeRequest("f", mode, payload);
}

class MetricsScrapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Not a skip: without them the check does not run at all.
    ASSERT_EQ(access(testing::kPrometheusBinary, X_OK), 0)
        << testing::kPrometheusBinary
        << " is missing: run tools/setup (it installs Debian's prometheus)";
    ASSERT_EQ(access(testing::kPromtoolBinary, X_OK), 0)
        << testing::kPromtoolBinary
        << " is missing: run tools/setup (it installs Debian's prometheus)";
    library_ = dir_.path() + "/f.so";
    ASSERT_EQ(RunCommand("touch " + library_ + " && chmod 0644 " + library_)
                  .exit_code,
              0);
    socket_ = dir_.path() + "/swiftd.sock";
    metrics_port_ = FreeLoopbackPort();
    const std::string peer = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
    swiftd_ = std::make_unique<SwiftdProcess>(
        socket_, "", dir_.path() + "/swiftd.log",
        std::vector<std::string>{
            absl::StrCat("--metrics_address=127.0.0.1:", metrics_port_),
            "--peer_address=" + peer, "--peers=self=" + peer,
            "--insecure_peers", "--state_dir=",
            "--worker_binary=" +
                Absolute(RunfilePath("daemon/functions/testing/stub_worker"))});
    // Serving metrics is the last step of swiftd's start.
    ASSERT_TRUE(
        Eventually([&] { return HttpGet(metrics_port_, "/metrics").ok(); },
                   absl::Seconds(60)))
        << testing::ReadWholeFile(dir_.path() + "/swiftd.log");
  }

  void TearDown() override {
    if (swiftd_ != nullptr) {
      EXPECT_EQ(swiftd_->StopWith(SIGTERM), 0);
    }
  }

  CommandResult Swiftctl(const std::string& args) {
    return RunCommand(absl::StrCat(RunfilePath("tools/swiftctl/swiftctl"),
                                   " --socket=", socket_, " ", args));
  }

  // Polls Prometheus until `expr` is `expected` (up to a minute), then
  // says what it last was.
  void ExpectQuery(const PrometheusServer& prometheus, const std::string& expr,
                   double expected) {
    absl::StatusOr<std::optional<double>> value;
    Eventually(
        [&] {
          value = prometheus.Query(expr);
          return value.ok() && value->has_value() && **value == expected;
        },
        absl::Seconds(60));
    ASSERT_TRUE(value.ok()) << expr << ": " << value.status();
    ASSERT_TRUE(value->has_value()) << expr << ": no series";
    EXPECT_EQ(**value, expected) << expr;
  }

  TempDir dir_;
  std::string library_;
  std::string socket_;
  uint16_t metrics_port_ = 0;
  std::unique_ptr<SwiftdProcess> swiftd_;
};

TEST_F(MetricsScrapeTest, PrometheusSeesWhatTheTestDid) {
  const std::string fast_path = FastPathSocketPath(socket_);
  // A service with kEndpoints endpoints, and kConnects connects to it that
  // stay open (on `calls`) until the end, and kFailedConnects to a service
  // that does not exist.
  absl::StatusOr<SeqpacketSocket> service =
      OpenRaw(fast_path, "metrics_scrape_test", v1::FastHello::SERVICE);
  ASSERT_TRUE(service.ok()) << service.status();
  ASSERT_TRUE(ListenRaw(*service, "metrics-svc", kEndpoints).ok());
  const testing::RawAcceptor acceptor(&*service);
  absl::StatusOr<SeqpacketSocket> calls = OpenRaw(fast_path, "metrics_scrape_test", v1::FastHello::CALLS);
  ASSERT_TRUE(calls.ok()) << calls.status();
  for (int i = 0; i < kConnects; ++i) {
    absl::StatusOr<v1::FastResponse> connected =
        RawCall(*calls, ConnectTo("metrics-svc"));
    EXPECT_TRUE(connected.ok()) << connected.status();
  }
  for (int i = 0; i < kFailedConnects; ++i) {
    absl::StatusOr<v1::FastResponse> refused =
        RawCall(*calls, ConnectTo("no-such-service"));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound)
        << refused.status();
  }

  // A function on the stub worker, invoked with swiftctl (direct
  // channels, and COLD through swiftd) and as fast path calls through
  // swiftd; one of each kind fails (the stub fails "fail:..." payloads).
  const CommandResult registered = Swiftctl("register f --library=" + library_);
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  for (int i = 0; i < kChannelForks; ++i) {
    EXPECT_EQ(Swiftctl("invoke f --mode=fork --payload=x").exit_code, 0);
  }
  for (int i = 0; i < kChannelWarms; ++i) {
    EXPECT_EQ(Swiftctl("invoke f --mode=warm --payload=x").exit_code, 0);
  }
  const CommandResult cold = Swiftctl("invoke f --mode=cold --payload=x");
  EXPECT_EQ(cold.exit_code, 0) << cold.err;
  EXPECT_NE(Swiftctl("invoke f --mode=fork --payload=fail:boom").exit_code, 0);
  for (int i = 0; i < kSwiftdForks + kSwiftdWarms; ++i) {
    absl::StatusOr<v1::FastResponse> invoked =
        RawCall(*calls, InvokeF(i < kSwiftdForks ? v1::InvokeRequest::FORK
                                              : v1::InvokeRequest::WARM,
                             "x"));
    EXPECT_TRUE(invoked.ok()) << invoked.status();
  }
  absl::StatusOr<v1::FastResponse> failed =
      RawCall(*calls, InvokeF(v1::InvokeRequest::FORK, "fail:boom"));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kAborted)
      << failed.status();
  const int invocations =
      kChannelForks + kChannelWarms + 1 + 1 + kSwiftdForks + kSwiftdWarms + 1;

  // promtool's lint of what swiftd exposes now.
  absl::StatusOr<HttpResponse> metrics = HttpGet(metrics_port_, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const std::string exposition = dir_.path() + "/metrics.txt";
  std::ofstream(exposition) << metrics->body;
  const CommandResult lint = RunCommand(
      absl::StrCat(testing::kPromtoolBinary, " check metrics < ", exposition));
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;

  // Prometheus scrapes swiftd; its answers are what the test did.
  absl::StatusOr<std::unique_ptr<PrometheusServer>> prometheus =
      PrometheusServer::Start(dir_.path(), metrics_port_);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  const PrometheusServer& server = **prometheus;
  ExpectQuery(server, "sum(up{job=\"swiftd\"})", 1);
  ExpectQuery(server, "sum(swift_connects_total{result=\"ok\"})", kConnects);
  ExpectQuery(server,
              "sum(swift_connects_total{result=\"failed\",reason="
              "\"NOT_FOUND\"})",
              kFailedConnects);
  ExpectQuery(server, "sum(swift_connect_step_seconds_count{step=\"broker\"})",
              kConnects);
  ExpectQuery(server, "sum(swift_connections{tenant=\"0\"})", kConnects);
  ExpectQuery(server,
              "sum(swift_service_pooled_endpoints{service=\"metrics-svc\"})",
              kEndpoints - kConnects);
  ExpectQuery(server, "sum(swift_service_connections{service=\"metrics-svc\"})",
              kConnects);
  ExpectQuery(server, "sum(swift_services{tenant=\"0\"})", 1);
  ExpectQuery(server, "sum(swift_clients{kind=\"service\",tenant=\"0\"})", 1);
  ExpectQuery(server, "sum(swift_handshakes_in_flight)", 0);
  ExpectQuery(server,
              "sum(swift_invocations_total{function=\"f\",mode=\"fork\","
              "result=\"OK\"})",
              kSwiftdForks);
  ExpectQuery(server,
              "sum(swift_invocations_total{function=\"f\",mode=\"warm\","
              "result=\"OK\"})",
              kSwiftdWarms);
  ExpectQuery(server,
              "sum(swift_invocations_total{function=\"f\",mode=\"cold\","
              "result=\"OK\"})",
              1);
  ExpectQuery(server,
              "sum(swift_invocations_total{function=\"f\",mode=\"fork\","
              "result=\"ABORTED\"})",
              1);
  ExpectQuery(server,
              "sum(swift_invocation_duration_seconds_count{function=\"f\","
              "mode=\"fork\",result=\"OK\"})",
              kSwiftdForks);
  ExpectQuery(server, "sum(swift_function_invocations_total{function=\"f\"})",
              invocations);
  ExpectQuery(server, "sum(swift_function_failures_total{function=\"f\"})", 2);
  ExpectQuery(server, "sum(swift_functions{state=\"ready\"})", 1);
  ExpectQuery(server, "sum(swift_workers_started_total{reason=\"register\"})",
              1);
  ExpectQuery(server, "sum(swift_workers_crashed_total)", 0);
  // swiftd's own figures: present and plausible.
  ExpectQuery(server, "count(process_open_fds > 0)", 1);
  ExpectQuery(server, "count(process_threads > 1)", 1);
  ExpectQuery(server, "count(process_resident_memory_bytes > 0)", 1);
  ExpectQuery(server, "count(process_cpu_seconds_total > 0)", 1);
}

// A loopback port someone else listens on, until destroyed.
class TakenPort {
 public:
  TakenPort() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
              0);
    EXPECT_EQ(listen(fd_, 1), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length),
              0);
    address_ = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
  }
  TakenPort(const TakenPort&) = delete;
  TakenPort& operator=(const TakenPort&) = delete;
  ~TakenPort() { close(fd_); }
  const std::string& address() const { return address_; }

 private:
  const int fd_;
  std::string address_;
};

// swiftd refuses to start on a --metrics_address it cannot serve, and
// says why, naming the flag.
TEST(MetricsFlagTest, AnAddressSwiftdCannotServeStopsItsStart) {
  TempDir dir;
  const TakenPort taken;
  for (const auto& [value, why] :
       std::vector<std::pair<std::string, std::string>>{
           {taken.address(), "in use"},
           {"localhost:7472", "is not an IPv4 address"},
           {"192.0.2.1:7472", "not an address of this host"}}) {
    const std::string log = dir.path() + "/swiftd.log";
    SwiftdProcess swiftd(dir.path() + "/swiftd.sock", "", log,
                         {"--metrics_address=" + value, "--state_dir="});
    EXPECT_EQ(swiftd.Wait(), 1) << value;
    const std::string said = testing::ReadWholeFile(log);
    EXPECT_TRUE(absl::StrContains(said, "--metrics_address")) << said;
    EXPECT_TRUE(absl::StrContains(said, why)) << value << ": " << said;
  }
}

// The default address (not given on the command line) taken, e.g. by a
// second swiftd on the host, leaves swiftd serving without metrics.
TEST(MetricsFlagTest, TheDefaultAddressTakenOnlyTurnsMetricsOff) {
  TempDir dir;
  const TakenPort taken;
  SwiftdOptions options;
  options.socket_path = dir.path() + "/swiftd.sock";
  options.metrics_address = taken.address();
  options.metrics_required = false;
  {
    absl::StatusOr<std::unique_ptr<SwiftdServer>> swiftd =
        SwiftdServer::Start(options);
    ASSERT_TRUE(swiftd.ok()) << swiftd.status();
    EXPECT_EQ((*swiftd)->metrics_port(), 0);
  }
  options.metrics_required = true;
  absl::StatusOr<std::unique_ptr<SwiftdServer>> swiftd =
      SwiftdServer::Start(options);
  ASSERT_FALSE(swiftd.ok());
  EXPECT_TRUE(absl::StrContains(swiftd.status().message(), "--metrics_address"))
      << swiftd.status();
}

}  // namespace
}  // namespace swift
