// Fork mode on a real device, the preconditions: the kernel copies pinned
// pages at fork, and only MAP_SHARED registered memory passes the check,
// in the parent and in a child alike. (Scenery: fork_rdma_fixture.h.)
#include <gtest/gtest.h>
#include <infiniband/verbs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/testing/rdma_test_env.h"
#include "common/verbs/mr.h"
#include "daemon/worker/fork/child_process.h"
#include "daemon/worker/fork/fork_rdma_fixture.h"
#include "daemon/worker/fork/fork_safe_sender.h"
#include "daemon/worker/fork/fork_support.h"
#include "daemon/worker/fork/provider_doorbell.h"

namespace swift::fork_testing {
namespace {

using ForkPreconditionsRdmaTest = ForkRdmaTest;

TEST_F(ForkPreconditionsRdmaTest,
       ForkPreconditionsHoldOnlyForSharedRegisteredMemory) {
  if (swift::testing::RdmaRequired()) {
    // The guest runs Debian's 6.1 kernel, which copies pinned pages.
    const absl::Status kernel = CheckCopyOnForkKernel();
    EXPECT_TRUE(kernel.ok()) << kernel;
  }
  std::vector<uint8_t> heap(2 * kPage, 0);
  absl::StatusOr<std::unique_ptr<verbs::Mr>> heap_mr = verbs::Mr::Register(
      rig_->pd, heap.data(), heap.size(), IBV_ACCESS_LOCAL_WRITE);
  ASSERT_TRUE(heap_mr.ok()) << heap_mr.status();

  const absl::Status shared = CheckSharedMemory(*rig_->mr->get());
  EXPECT_TRUE(shared.ok()) << shared;
  const absl::Status private_memory = CheckSharedMemory(*(*heap_mr)->get());
  EXPECT_EQ(private_memory.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(private_memory.message().find(
                absl::StrFormat("MR lkey=0x%x", (*heap_mr)->lkey())),
            absl::string_view::npos)
      << private_memory;
  EXPECT_NE(private_memory.message().find("snapshot in the child"),
            absl::string_view::npos)
      << private_memory;

  // A child, which is where libswift checks, sees the same.
  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        return absl::StrFormat(
            "kernel=%d shared=%d private=%d",
            static_cast<int>(CheckCopyOnForkKernel().code()),
            static_cast<int>(CheckSharedMemory(*rig_->mr->get()).code()),
            static_cast<int>(CheckSharedMemory(*(*heap_mr)->get()).code()));
      },
      kChildTimeout);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(
      *child,
      absl::StrFormat("kernel=%d shared=0 private=%d",
                      static_cast<int>(CheckCopyOnForkKernel().code()),
                      static_cast<int>(absl::StatusCode::kFailedPrecondition)));
}

}  // namespace
}  // namespace swift::fork_testing
