// `swiftctl top` as an operator runs it: the real binary against the real
// swiftd binary, which brokers with itself on loopback (fake endpoints, no
// RDMA device needed) and runs functions on the stub worker. What the test
// did (connects that succeed and fail, open connections, invocations, a
// service's pool, an attached client) must be what the frame shows; rates
// measured while invocations go on are real; the refreshing view ends
// cleanly on SIGTERM, and on a terminal gives the screen back.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/control/control_client.h"
#include "common/seqpacket_socket.h"
#include "common/testing/eventually.h"
#include "common/unix_socket.h"
#include "common/version.h"
#include "proto/fast_path.pb.h"
#include "tests/metrics_prometheus.h"
#include "tests/raw_fast_path.h"
#include "tests/swiftd_process.h"

namespace swift {
namespace {

using ::swift::testing::Absolute;
using ::swift::testing::CommandResult;
using ::swift::testing::Eventually;
using ::swift::testing::FreeLoopbackPort;
using ::swift::testing::RawCall;
using ::swift::testing::RunCommand;
using ::swift::testing::RunfilePath;
using ::swift::testing::SwiftdProcess;
using ::swift::testing::TempDir;

constexpr int kEndpoints = 16;
constexpr int kConnects = 5;
constexpr int kFailedConnects = 3;
// FORK and WARM invocations in the one-frame test.
constexpr int kInvocations = 4;
constexpr int kWarmInvocations = 3;

// An invocation of function "f" through swiftd (a fast path call:
// counted by swiftd when it begins), FORK unless told.
v1::FastRequest InvokeF(
    v1::InvokeRequest::Mode mode = v1::InvokeRequest::FORK) {
  return testing::RawInvokeRequest("f", mode, "x");
}

class SwiftctlTopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.path() + "/swiftd.sock";
    library_ = dir_.path() + "/f.so";
    ASSERT_EQ(RunCommand("touch " + library_ + " && chmod 0644 " + library_)
                  .exit_code,
              0);
    const std::string peer = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
    swiftd_ = std::make_unique<SwiftdProcess>(
        socket_, "", dir_.path() + "/swiftd.log",
        std::vector<std::string>{
            "--peer_address=" + peer, "--peers=self=" + peer,
            "--insecure_peers", "--state_dir=",
            "--worker_binary=" +
                Absolute(RunfilePath("daemon/functions/testing/stub_worker"))});
    ASSERT_TRUE(Eventually([&] { return Swiftctl("status").exit_code == 0; },
                           absl::Seconds(60)))
        << testing::ReadWholeFile(dir_.path() + "/swiftd.log");
  }

  void TearDown() override {
    if (swiftd_ != nullptr) {
      EXPECT_EQ(swiftd_->StopWith(SIGTERM), 0);
    }
  }

  std::string SwiftctlCommand(const std::string& args) {
    return absl::StrCat(RunfilePath("tools/swiftctl/swiftctl"),
                        " --socket=", socket_, " ", args);
  }
  CommandResult Swiftctl(const std::string& args) {
    return RunCommand(SwiftctlCommand(args));
  }

  // A service "kv" with kEndpoints fake endpoints, answered by an
  // Acceptor, and a CALLS connection for the test's own calls.
  void OpenServiceAndCalls() {
    const std::string fast_path = FastPathSocketPath(socket_);
    absl::StatusOr<SeqpacketSocket> service =
        testing::OpenRaw(fast_path, "top_test", v1::FastHello::SERVICE);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::make_unique<SeqpacketSocket>(*std::move(service));
    ASSERT_TRUE(testing::ListenRaw(*service_, "kv", kEndpoints).ok());
    acceptor_ = std::make_unique<testing::RawAcceptor>(service_.get());
    absl::StatusOr<SeqpacketSocket> calls =
        testing::OpenRaw(fast_path, "top_test", v1::FastHello::CALLS);
    ASSERT_TRUE(calls.ok()) << calls.status();
    calls_ = std::make_unique<SeqpacketSocket>(*std::move(calls));
  }

  void RegisterF() {
    const CommandResult registered =
        Swiftctl("register f --library=" + library_);
    ASSERT_EQ(registered.exit_code, 0) << registered.err;
  }

  TempDir dir_;
  std::string socket_;
  std::string library_;
  std::unique_ptr<SwiftdProcess> swiftd_;
  std::unique_ptr<SeqpacketSocket> service_;
  std::unique_ptr<testing::RawAcceptor> acceptor_;
  std::unique_ptr<SeqpacketSocket> calls_;
};

// The number before "/s" after `label` in `frame`; -1 when absent.
double RateAfter(const std::string& frame, const std::string& label) {
  const size_t at = frame.find(label);
  if (at == std::string::npos) {
    return -1;
  }
  const size_t start = at + label.size();
  const size_t end = frame.find("/s", start);
  double rate = -1;
  if (end == std::string::npos ||
      !absl::SimpleAtod(frame.substr(start, end - start), &rate)) {
    return -1;
  }
  return rate;
}

TEST_F(SwiftctlTopTest, OneFrameShowsWhatTheTestDid) {
  OpenServiceAndCalls();
  for (int i = 0; i < kConnects; ++i) {
    absl::StatusOr<v1::FastResponse> connected =
        RawCall(*calls_, testing::RawConnectRequest("kv", absl::Seconds(20)));
    ASSERT_TRUE(connected.ok()) << connected.status();
  }
  for (int i = 0; i < kFailedConnects; ++i) {
    absl::StatusOr<v1::FastResponse> refused = RawCall(
        *calls_, testing::RawConnectRequest("nothing", absl::Seconds(20)));
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  }
  RegisterF();
  for (int i = 0; i < kInvocations; ++i) {
    absl::StatusOr<v1::FastResponse> invoked = RawCall(*calls_, InvokeF());
    ASSERT_TRUE(invoked.ok()) << invoked.status();
  }
  for (int i = 0; i < kWarmInvocations; ++i) {
    absl::StatusOr<v1::FastResponse> invoked =
        RawCall(*calls_, InvokeF(v1::InvokeRequest::WARM));
    ASSERT_TRUE(invoked.ok()) << invoked.status();
  }
  // One client attached on the Control API (without a fast path, so that
  // the fast path holds the test's two connections only).
  ClientOptions options;
  options.socket_path = socket_;
  options.use_fast_path = false;
  absl::StatusOr<std::unique_ptr<ControlClient>> attached =
      ControlClient::Connect(options);
  ASSERT_TRUE(attached.ok()) << attached.status();
  ASSERT_TRUE(Eventually(
      [&] {
        absl::StatusOr<v1::GetStatusResponse> status = (*attached)->GetStatus();
        return status.ok() && status->clients_count() == 1;
      },
      absl::Seconds(10)));

  const CommandResult top = Swiftctl("top --once --interval=200ms");
  ASSERT_EQ(top.exit_code, 0) << top.err;
  const std::string& frame = top.out;
  // Not a terminal (RunCommand writes to a file): plain lines.
  EXPECT_EQ(frame.find('\x1b'), std::string::npos) << frame;
  EXPECT_TRUE(absl::StrContains(frame, "(rates over 0.")) << frame;
  // Nothing happened during the interval.
  EXPECT_TRUE(absl::StrContains(frame, "connects     0.0/s  failed 0.0/s"))
      << frame;
  EXPECT_TRUE(absl::StrContains(frame, "invocations  0.0/s  failed 0.0/s"))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, absl::StrCat("(total ", kConnects, " ok, ", kFailedConnects,
                          " failed, 0 closed)")))
      << frame;
  // The handshakes of the open connections give real percentiles.
  EXPECT_TRUE(absl::StrContains(frame, "handshake  p50 ")) << frame;
  EXPECT_FALSE(absl::StrContains(frame, "handshake  p50 n/a")) << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, absl::StrCat("(of the ", kConnects, " open connections)")))
      << frame;
  // The connects' latencies (those that succeeded, from swiftd's
  // histogram): none in the interval; all of them are numbers.
  const size_t connect_latency =
      frame.find("\n  latency    ", frame.find("connects     "));
  ASSERT_NE(connect_latency, std::string::npos) << frame;
  EXPECT_TRUE(absl::StartsWith(frame.substr(connect_latency + 1),
                               "  latency    p50 n/a  p99 n/a  in the last 0."))
      << frame;
  const size_t connects_since =
      frame.find(absl::StrCat("  since start (", kConnects, " connects)\n"));
  ASSERT_NE(connects_since, std::string::npos) << frame;
  const size_t line_start = frame.rfind('\n', connects_since) + 1;
  EXPECT_FALSE(absl::StrContains(
      frame.substr(line_start, connects_since - line_start), "n/a"))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame,
      absl::StrCat("(total ", kInvocations + kWarmInvocations, ", 0 failed)")))
      << frame;
  // By mode: none during the interval, the test's in the totals.
  EXPECT_TRUE(absl::StrContains(
      frame, "\n  cold       0.0/s  failed 0.0/s  (total 0, 0 failed)\n"))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, absl::StrCat("\n  warm       0.0/s  failed 0.0/s  (total ",
                          kWarmInvocations, ", 0 failed)\n")))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, absl::StrCat("\n  fork       0.0/s  failed 0.0/s  (total ",
                          kInvocations, ", 0 failed; by spares ")))
      << frame;
  // Latencies: none in the interval; those of all of them are numbers.
  EXPECT_TRUE(
      absl::StrContains(frame, "  latency    p50 n/a  p99 n/a  in the last 0."))
      << frame;
  const size_t since = frame.find(absl::StrCat(
      "  since start (", kInvocations + kWarmInvocations, " invocations)"));
  ASSERT_NE(since, std::string::npos) << frame;
  const std::string all_line = frame.substr(
      frame.rfind('\n', since) + 1, since - frame.rfind('\n', since) - 1);
  EXPECT_TRUE(absl::StartsWith(all_line, "             p50 ")) << all_line;
  EXPECT_FALSE(absl::StrContains(all_line, "n/a")) << all_line;
  EXPECT_TRUE(absl::EndsWith(all_line, "s")) << all_line;
  EXPECT_TRUE(absl::StrContains(frame, "0 in flight, 0 queued")) << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, absl::StrCat("1 services, ", kEndpoints - kConnects,
                          " ready QPs, ", kConnects, " connections")))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, "1 attached; 2 fast path connections from 1 process\n"))
      << frame;
  EXPECT_TRUE(absl::StrContains(frame, "SERVICE  OWNER")) << frame;
  for (absl::string_view line : absl::StrSplit(frame, '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
  EXPECT_TRUE(absl::StrContains(frame, "\nkv ")) << frame;
  EXPECT_TRUE(absl::StrContains(frame, "\nf         ready")) << frame;
}

TEST_F(SwiftctlTopTest, RatesAreMeasuredWhileWorkGoesOn) {
  OpenServiceAndCalls();
  RegisterF();
  // Invocations go on for as long as top runs: between its two samples
  // (at least --interval apart) some, and at most all of them, happen.
  std::atomic<bool> done{false};
  CommandResult top;
  std::thread viewer([&] {
    top = Swiftctl("top --once --interval=1s");
    done = true;
  });
  int invoked = 0;
  while (!done) {
    absl::StatusOr<v1::FastResponse> response = RawCall(*calls_, InvokeF());
    ASSERT_TRUE(response.ok()) << response.status();
    ++invoked;
  }
  viewer.join();
  ASSERT_EQ(top.exit_code, 0) << top.err;
  const double rate = RateAfter(top.out, "invocations  ");
  EXPECT_GT(rate, 0) << top.out;
  EXPECT_LE(rate, invoked) << top.out;
  // The function's row agrees with the total.
  EXPECT_TRUE(absl::StrContains(
      top.out, absl::StrFormat("\nf         ready  %.1f", rate)))
      << top.out;
  // All of them were FORK ones, whose latencies over the interval are
  // numbers. Counted when they end (the total when they begin): the one
  // in flight at each sample may be missing.
  EXPECT_NEAR(RateAfter(top.out, "\n  fork       "), rate, 2.0) << top.out;
  EXPECT_EQ(RateAfter(top.out, "\n  warm       "), 0) << top.out;
  const size_t latency =
      top.out.find("\n  latency    p50 ", top.out.find("invocations  "));
  ASSERT_NE(latency, std::string::npos) << top.out;
  const std::string line = top.out.substr(
      latency + 1, top.out.find('\n', latency + 1) - latency - 1);
  EXPECT_FALSE(absl::StrContains(line, "n/a")) << line;
  EXPECT_TRUE(absl::StrContains(line, " in the last 1.")) << line;
  EXPECT_TRUE(absl::EndsWith(line, " invocations)")) << line;
  std::cout << "A frame while FORK invocations go on:\n" << top.out;
}

// What top reads is what `swiftctl workers` shows: the counts by mode, in
// the table and the JSON (with the latency histograms); a function
// registered again counts from 0.
TEST_F(SwiftctlTopTest, WorkersListInvocationsByModeUntilUnregistered) {
  OpenServiceAndCalls();
  RegisterF();
  for (v1::InvokeRequest::Mode mode :
       {v1::InvokeRequest::FORK, v1::InvokeRequest::WARM,
        v1::InvokeRequest::FORK}) {
    absl::StatusOr<v1::FastResponse> invoked = RawCall(*calls_, InvokeF(mode));
    ASSERT_TRUE(invoked.ok()) << invoked.status();
  }
  const CommandResult table = Swiftctl("workers");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(absl::StrContains(table.out, "COLD/WARM/FORK")) << table.out;
  EXPECT_TRUE(absl::StrContains(table.out, "  0/1/2  ")) << table.out;
  const CommandResult json = Swiftctl("--json workers");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(absl::StrContains(json.out, "\"by_mode\"")) << json.out;
  EXPECT_TRUE(absl::StrContains(json.out, "\"mode\":\"WARM\"")) << json.out;
  EXPECT_TRUE(absl::StrContains(json.out, "\"upper_bounds_us\"")) << json.out;

  ASSERT_EQ(Swiftctl("unregister f").exit_code, 0);
  RegisterF();
  const CommandResult again = Swiftctl("workers");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(again.out, "  0/0/0  ")) << again.out;
}

TEST_F(SwiftctlTopTest, RefreshesUntilSigtermThenExitsZero) {
  // Plain output (not a terminal): one block per refresh.
  const CommandResult top = RunCommand(
      absl::StrCat("sh -c '", SwiftctlCommand("top --interval=200ms"),
                   " & pid=$!; sleep 2; kill -TERM $pid; wait $pid'"));
  EXPECT_EQ(top.exit_code, 0) << top.err;
  const std::vector<std::string> frames =
      absl::StrSplit(top.out, "\n\nswiftd ");
  EXPECT_GE(frames.size(), 2u) << top.out;
  EXPECT_EQ(top.out.find('\x1b'), std::string::npos) << top.out;
  EXPECT_TRUE(top.err.empty()) << top.err;
}

TEST_F(SwiftctlTopTest, OnATerminalTheScreenIsGivenBack) {
  // script(1) gives swiftctl a pseudo-terminal and copies what it draws.
  if (RunCommand("script -qec true /dev/null").exit_code != 0) {
    GTEST_SKIP() << "script(1) cannot open a pseudo-terminal here";
  }
  const CommandResult top = RunCommand(absl::StrCat(
      "TERM=xterm script -qec \"timeout --preserve-status -s TERM 2 ",
      SwiftctlCommand("top --interval=200ms"), "\" /dev/null"));
  EXPECT_EQ(top.exit_code, 0) << top.out << top.err;
  // Alternate screen in, frames drawn in place, and out again at the end.
  EXPECT_TRUE(absl::StrContains(top.out, "\x1b[?1049h")) << top.out;
  EXPECT_TRUE(absl::StrContains(top.out, "\x1b[H\x1b[1mswiftd")) << top.out;
  EXPECT_TRUE(absl::StrContains(top.out, "connects")) << top.out;
  EXPECT_TRUE(absl::EndsWith(top.out, "\x1b[?25h\x1b[?1049l")) << top.out;
}

TEST_F(SwiftctlTopTest, ASwiftdThatGoesAwayEndsTheViewWithExitOne) {
  CommandResult top;
  std::thread viewer(
      [&] { top = Swiftctl("top --interval=200ms --timeout_ms=2000"); });
  // A frame or more, then swiftd stops under the view.
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(swiftd_->StopWith(SIGTERM), 0);
  swiftd_.reset();
  viewer.join();
  EXPECT_EQ(top.exit_code, 1) << top.out << top.err;
  EXPECT_TRUE(absl::StartsWith(top.err, "swiftctl: ")) << top.err;
  EXPECT_TRUE(absl::StrContains(top.out, "connects")) << top.out;
}

}  // namespace
}  // namespace swift
