// `swiftctl peers`' table: the peer counters per peer and in total.
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/swiftctl/format.h"

namespace swift {
namespace {

TEST(FormatPeersTest, ShowsCallsAndGateCountsPerPeerAndTotals) {
  v1::ListPeersResponse response;
  v1::PeerInfo* peer = response.add_peers();
  peer->set_name("host-b");
  peer->set_address("10.77.0.2:7471");
  peer->set_source("directory");
  peer->mutable_counters()->set_calls(40);
  peer->mutable_counters()->set_call_errors(3);
  peer->mutable_counters()->set_admitted(12);
  peer->mutable_counters()->set_refused_credential(2);
  peer->mutable_counters()->set_refused_replay(1);
  response.mutable_totals()->set_calls(40);
  response.mutable_totals()->set_call_errors(3);
  response.mutable_totals()->set_admitted(12);
  response.mutable_totals()->set_refused_address(5);
  response.mutable_totals()->set_refused_credential(2);
  response.mutable_totals()->set_refused_replay(1);
  response.mutable_totals()->set_refused_dial(7);
  const std::string table = swiftctl::FormatPeers(response);
  EXPECT_TRUE(absl::StrContains(table, "CALLS/ERR")) << table;
  EXPECT_TRUE(absl::StrContains(table, "SOURCE")) << table;
  EXPECT_TRUE(absl::StrContains(table, "10.77.0.2:7471  directory")) << table;
  EXPECT_TRUE(absl::StrContains(table, "40/3")) << table;
  EXPECT_TRUE(
      absl::StrContains(table, "12/3 (address 0, credential 2, replay 1)"))
      << table;
  EXPECT_TRUE(absl::StrContains(
      table,
      "total: calls/errors 40/3, peer requests admitted/refused 12/8 "
      "(address 5, credential 2, replay 1), dials refused 7"))
      << table;
}

TEST(FormatPeersTest, TotalsAreShownWithoutPeers) {
  v1::ListPeersResponse response;
  response.mutable_totals()->set_refused_address(9);
  const std::string table = swiftctl::FormatPeers(response);
  EXPECT_TRUE(absl::StrContains(table, "No peers.")) << table;
  EXPECT_TRUE(absl::StrContains(table, "admitted/refused 0/9")) << table;
}

}  // namespace
}  // namespace swift
