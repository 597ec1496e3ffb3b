// `swiftctl connections`' table: each connection's remote side, and why
// when it is not whole (issue 12).
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/swiftctl/format.h"

namespace swift {
namespace {

TEST(FormatConnectionsTest, SaysWhichRemoteSidesEndedAndWhy) {
  v1::ListConnectionsResponse response;
  v1::ConnectionInfo* whole = response.add_connections();
  whole->set_id(7);
  whole->set_peer("10.77.0.1:7471");
  whole->set_service("kv");
  v1::ConnectionInfo* ended = response.add_connections();
  ended->set_id(8);
  ended->set_service("kv");
  ended->set_remote_ended(true);
  ended->set_remote_problem("service 'kv' on 10.77.0.1:7471 closed it");
  v1::ConnectionInfo* suspect = response.add_connections();
  suspect->set_id(9);
  suspect->set_service("kv");
  suspect->set_remote_problem("swiftd on 10.77.0.1:7471 does not answer");
  const std::string table = swiftctl::FormatConnections(response);
  EXPECT_TRUE(absl::StrContains(table, "REMOTE")) << table;
  EXPECT_TRUE(absl::StrContains(table, " ok")) << table;
  EXPECT_TRUE(absl::StrContains(table, " ended")) << table;
  EXPECT_TRUE(absl::StrContains(table, " suspect")) << table;
  EXPECT_TRUE(
      absl::StrContains(table, "  8: service 'kv' on 10.77.0.1:7471 closed it"))
      << table;
  EXPECT_TRUE(
      absl::StrContains(table, "  9: swiftd on 10.77.0.1:7471 does not answer"))
      << table;
  EXPECT_FALSE(absl::StrContains(table, "  7: ")) << table;
}

}  // namespace
}  // namespace swift
