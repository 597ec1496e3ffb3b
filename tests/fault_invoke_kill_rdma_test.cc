// Fault: a client SIGKILLed at each stage of a function invocation, on the
// two hosts of the Soft-RoCE guest (swiftd A and B as processes; a sink
// service listens through A; function "f", the test function, is
// registered with swiftd B, whose worker's instances hold QPs brokered to
// the sink; the client, tests/fault_client, invokes through B):
//   (e) during a FORK invocation and (e') a WARM one, while the function
//       runs (it hangs until its timeout),
//   (f) holding an idle FUNCTION channel to the worker after a FORK,
//   (g) during a COLD invocation, while its fresh worker runs.
// After each kill, what must hold: both swiftds' listings (workers and
// their instances, spare and prepared connection sets, swiftd's child
// processes, tenants' use, connections) and the kernel's verbs objects
// return to the baseline, the worker holds no more descriptors than
// before, and a new client's invocation writes into the sink (RDMA from a
// forked instance) and a new client's brokered connection carries data.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/eventually.h"
#include "tests/fault_client_process.h"
#include "tests/fault_observations.h"
#include "tests/fault_swiftd_pair.h"

namespace swift {
namespace {

using ::swift::testing::CountFds;
using ::swift::testing::Eventually;
using ::swift::testing::FaultClientProcess;
using ::swift::testing::FaultPairTest;
using ::swift::testing::Observe;

constexpr int kPeerPort = 17621;

class FaultInvokeKillRdmaTest : public FaultPairTest {
 protected:
  FaultInvokeKillRdmaTest() : FaultPairTest(kPeerPort) {}

  // The sink on A, "f" on B, one invocation through it (a spare and
  // connection sets in their steady state after), then the baseline.
  void SetUp() override {
    FaultPairTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(StartService(a_, "sink").ok());
    v1::RegisterFunctionRequest request;
    request.set_name("f");
    request.set_library_path(testing::Absolute(
        testing::RunfilePath("tests/functions/test_function.so")));
    v1::FunctionPeer* peer = request.add_peers();
    peer->set_host(a_.peer_address);
    peer->set_service("sink");
    request.set_max_instances(4);
    request.set_prepared(2);
    // Idle instances go soon: the state returns to its baseline soon.
    request.set_idle_timeout_ms(1000);
    auto registered = Control(b_)->RegisterFunction(request);
    ASSERT_TRUE(registered.ok()) << registered.status();
    worker_pid_ = static_cast<pid_t>(registered->worker_pid());
    absl::Status started = InvokeWrites("start");
    ASSERT_TRUE(started.ok()) << started;
    TakeBaseline();
    worker_fds_ = CountFds(worker_pid_);
  }

  std::vector<std::string> InvokeFlags(const std::string& mode,
                                       const std::string& payload,
                                       int timeout_ms = 10000) {
    return {"--mode=invoke", "--socket=" + b_.socket, "--invoke_mode=" + mode,
            "--payload=" + payload, absl::StrCat("--timeout_ms=", timeout_ms)};
  }

  // A new client's FORK invocation writes `tag` into the sink.
  absl::Status InvokeWrites(const std::string& tag) {
    const std::string text = absl::StrCat("invoked after ", tag);
    FaultClientProcess client(InvokeFlags("fork", "write:" + text));
    if (!client.WaitForStage("hello")) {
      return absl::UnavailableError(client.output());
    }
    client.Continue();
    const std::string invoked = client.WaitForLine("INVOKED");
    if (invoked != absl::StrCat("INVOKED OK: wrote ", text.size())) {
      return absl::InternalError(absl::StrCat("got '", invoked, "'"));
    }
    if (ServiceBytes(0, text.size()) != text) {
      return absl::DataLossError(
          absl::StrCat("the sink holds '", ServiceBytes(0, text.size()), "'"));
    }
    client.Continue();
    return client.Wait() == 0 ? absl::OkStatus()
                              : absl::InternalError(client.output());
  }

  // What swiftd B lists of worker "f" now.
  v1::WorkerInfo WorkerF() {
    auto workers = Control(b_)->ListWorkers();
    if (workers.ok()) {
      for (const auto& worker : workers->workers()) {
        if (worker.function() == "f") return worker;
      }
    }
    return v1::WorkerInfo();
  }

  void ExpectRecovered(const std::string& stage,
                       absl::Duration limit = absl::Seconds(30)) {
    ExpectBaseline("client killed " + stage, limit);
    EXPECT_TRUE(Eventually([&] { return CountFds(worker_pid_) == worker_fds_; },
                           absl::Seconds(10)))
        << "worker descriptors " << worker_fds_ << " -> "
        << CountFds(worker_pid_);
    absl::Status invoked = InvokeWrites("a client killed " + stage);
    EXPECT_TRUE(invoked.ok()) << invoked;
    absl::Status flows = DataFlows(b_, a_, "a client killed " + stage);
    EXPECT_TRUE(flows.ok()) << flows;
  }

  // Kills a client while its invocation of "hang" runs in an instance.
  void KillDuringInvocation(const std::string& mode) {
    FaultClientProcess client(InvokeFlags(mode, "hang", /*timeout_ms=*/3000));
    ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
    client.Continue();
    ASSERT_TRUE(client.WaitForStage("invoking")) << client.output();
    ASSERT_TRUE(Eventually([&] { return WorkerF().busy_instances() == 1; },
                           absl::Seconds(10)))
        << "the function never ran: " << WorkerF().DebugString();
    client.Kill();
  }

  pid_t worker_pid_ = 0;
  int worker_fds_ = 0;
};

TEST_F(FaultInvokeKillRdmaTest, KilledDuringAForkInvocation) {
  KillDuringInvocation("fork");
  ExpectRecovered("during a FORK invocation");
}

TEST_F(FaultInvokeKillRdmaTest, KilledDuringAWarmInvocation) {
  KillDuringInvocation("warm");
  ExpectRecovered("during a WARM invocation");
}

TEST_F(FaultInvokeKillRdmaTest, KilledHoldingAFunctionChannel) {
  FaultClientProcess client(InvokeFlags("fork", "echo:held"));
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  client.Continue();
  EXPECT_EQ(client.WaitForLine("INVOKED"), "INVOKED OK: held");
  ASSERT_TRUE(client.WaitForStage("invoked")) << client.output();
  // The channel is the worker's now: one more descriptor there.
  EXPECT_GT(CountFds(worker_pid_), worker_fds_);
  client.Kill();
  ExpectRecovered("holding a FUNCTION channel");
}

TEST_F(FaultInvokeKillRdmaTest, KilledDuringAColdInvocation) {
  auto tenants = Control(b_)->ListTenants();
  ASSERT_TRUE(tenants.ok()) << tenants.status();
  const uint32_t workers = tenants->workers();
  FaultClientProcess client(InvokeFlags("cold", "hang", /*timeout_ms=*/3000));
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  client.Continue();
  ASSERT_TRUE(client.WaitForStage("invoking")) << client.output();
  // A COLD invocation runs in a worker of its own, counted while it runs.
  ASSERT_TRUE(Eventually(
      [&] {
        auto now = Control(b_)->ListTenants();
        return now.ok() && now->workers() == workers + 1;
      },
      absl::Seconds(10)))
      << "no COLD worker came up";
  client.Kill();
  const absl::Time killed = absl::Now();
  // Client or not, the invocation's timeout (3 s) ends its COLD worker.
  const bool ended = Eventually(
      [&] {
        auto now = Control(b_)->ListTenants();
        return now.ok() && now->workers() == workers;
      },
      absl::Seconds(3 + 10));
  Observe(absl::StrCat("COLD worker (timeout_ms=3000) of a killed client ",
                       ended ? "ended " : "still ran ",
                       absl::FormatDuration(absl::Now() - killed),
                       " after the kill"));
  EXPECT_TRUE(ended) << "the COLD worker of an invocation with timeout_ms=3000 "
                        "still runs "
                     << absl::Now() - killed << " after its client was killed";
  // Then the rest must be as before, however long the worker took.
  ExpectRecovered("during a COLD invocation", absl::Seconds(60));
}

}  // namespace
}  // namespace swift
