// Fault: the link between the guest's two hosts taken down and up again
// (`ip link set $RXE_B_NETDEV down`, then up) under swiftd A and B (as
// processes) that already broker with each other. What must hold: a
// connect from A to B's service while the link is down fails with a clear
// error (deadline or unavailable, naming B) within the client's timeout; a
// session started while it is down is refused, saying the port is down;
// after the link is up a new connect works and carries data; nothing is
// leaked (both swiftds' listings and the kernel's verbs objects as before
// the link went down).
#include <iostream>
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

using ::swift::testing::Eventually;
using ::swift::testing::FaultClientProcess;
using ::swift::testing::FaultPairTest;
using ::swift::testing::Observe;
using ::swift::testing::ReadWholeFile;
using ::swift::testing::RunCommand;

constexpr int kPeerPort = 17641;

// Takes B's netdev down for its lifetime. Bringing it up again restores
// what the guest's network setup (tools/rxe-vm/guest/rdma-up) had routed
// through it, since the kernel drops a device's routes when it goes down,
// and waits until B's RDMA port is ACTIVE again.
class LinkDown {
 public:
  LinkDown(std::string netdev, std::string device, std::string a_ip,
           std::string b_ip)
      : netdev_(std::move(netdev)),
        device_(std::move(device)),
        a_ip_(std::move(a_ip)),
        b_ip_(std::move(b_ip)) {
    const auto down = RunCommand("ip link set " + netdev_ + " down");
    EXPECT_EQ(down.exit_code, 0) << down.err;
  }
  ~LinkDown() { Up(); }

  void Up() {
    if (up_) return;
    up_ = true;
    const std::string route =
        absl::StrCat(a_ip_, " dev ", netdev_, " src ", b_ip_);
    const auto up = RunCommand(
        absl::StrCat("ip link set ", netdev_, " up && ip route replace ", route,
                     " table 101 && ip route replace ", route));
    EXPECT_EQ(up.exit_code, 0) << up.err;
    const std::string state =
        "/sys/class/infiniband/" + device_ + "/ports/1/state";
    EXPECT_TRUE(Eventually(
        [&] { return absl::StrContains(ReadWholeFile(state), "ACTIVE"); },
        absl::Seconds(20)))
        << device_ << " port: " << ReadWholeFile(state);
  }

 private:
  const std::string netdev_;
  const std::string device_;
  const std::string a_ip_;
  const std::string b_ip_;
  bool up_ = false;
};

class FaultLinkRdmaTest : public FaultPairTest {
 protected:
  FaultLinkRdmaTest() : FaultPairTest(kPeerPort) {}
};

// The connect A gives up on while the link is down may already be accepted
// by B's service: B kept that half connection (one QP and CQ on rxeB) until
// A learned to close an abandoned connect by its id once B answers again.
TEST_F(FaultLinkRdmaTest, ConnectFailsClearlyWhileTheLinkIsDownAndWorksAfter) {
  ASSERT_FALSE(b_.netdev.empty()) << "RXE_B_NETDEV is not set";
  ASSERT_TRUE(StartService(b_, "echo").ok());
  // A knows B (the peer link is up and pooled) before the link goes.
  absl::Status flows = DataFlows(a_, b_, "start");
  ASSERT_TRUE(flows.ok()) << flows;
  TakeBaseline();

  constexpr int kTimeoutMs = 5000;
  std::vector<std::string> flags = ConnectFlags(a_, b_, "echo");
  flags.push_back(absl::StrCat("--connect_timeout_ms=", kTimeoutMs));
  // A client whose session (device, PD, QPs) exists before the link goes.
  FaultClientProcess client(flags);
  ASSERT_TRUE(client.WaitForStage("hello")) << client.output();
  {
    LinkDown link(b_.netdev, b_.device, a_.ip, b_.ip);
    const absl::Time start = absl::Now();
    client.Continue();
    const std::string error = client.WaitForLine("ERROR", absl::Seconds(60));
    const absl::Duration took = absl::Now() - start;
    Observe(absl::StrCat("connect from A to B with ", b_.netdev,
                         " down, after ", absl::FormatDuration(took), ": ",
                         error));
    EXPECT_TRUE(absl::StartsWith(error, "ERROR DEADLINE_EXCEEDED: ") ||
                absl::StartsWith(error, "ERROR UNAVAILABLE: "))
        << error << "\n"
        << client.output();
    EXPECT_TRUE(absl::StrContains(error, b_.peer_address)) << error;
    // Its own timeout and some slack for the emulated guest.
    EXPECT_LT(took, absl::Milliseconds(kTimeoutMs) + absl::Seconds(5));
    EXPECT_EQ(client.Wait(), 3);

    // A session started while the link is down: the port is down with it
    // (veth: both ends lose their carrier), which libswift says.
    FaultClientProcess late(flags);
    const std::string refused = late.WaitForLine("ERROR", absl::Seconds(60));
    Observe(absl::StrCat("a new session on A with ", b_.netdev,
                         " down: ", refused));
    EXPECT_TRUE(absl::StartsWith(refused, "ERROR UNAVAILABLE: ")) << refused;
    EXPECT_TRUE(absl::StrContains(refused, "not active")) << refused;
    EXPECT_EQ(late.Wait(), 3);
    link.Up();
  }

  flows = DataFlows(a_, b_, "the link came back");
  EXPECT_TRUE(flows.ok()) << flows;
  ExpectBaseline("the link went down and up");
}

}  // namespace
}  // namespace swift
