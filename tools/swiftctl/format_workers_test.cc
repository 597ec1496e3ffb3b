// `swiftctl workers`' table: each function's invocations through swiftd by
// mode (COLD/WARM/FORK), and "-" for a swiftd that does not count them.
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/swiftctl/format.h"

namespace swift::swiftctl {
namespace {

TEST(FormatWorkersTest, ShowsInvocationsByMode) {
  v1::ListWorkersResponse response;
  v1::WorkerInfo* worker = response.add_workers();
  worker->set_function("resize");
  worker->set_state("ready");
  worker->set_invocations(9);
  for (const auto& [mode, count] : {std::pair{v1::InvokeRequest::COLD, 2},
                                    std::pair{v1::InvokeRequest::WARM, 3},
                                    std::pair{v1::InvokeRequest::FORK, 4}}) {
    v1::InvocationModeStats* stats = worker->add_by_mode();
    stats->set_mode(mode);
    stats->set_invocations(count);
  }
  v1::WorkerInfo* older = response.add_workers();
  older->set_function("thumb");
  older->set_state("ready");
  const std::string table = FormatWorkers(response);
  EXPECT_TRUE(absl::StrContains(table, "COLD/WARM/FORK")) << table;
  EXPECT_TRUE(absl::StrContains(table, "  2/3/4  ")) << table;
  EXPECT_TRUE(absl::StrContains(table, "  -  ")) << table;
}

}  // namespace
}  // namespace swift::swiftctl
