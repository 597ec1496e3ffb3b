// ShareableContext and the import calls on a real device (the Soft-RoCE
// guest). rxe cannot import (only mlx5 and efa can), so what is proven
// here is the refusal and the cleanup around it: the hand-out's fd is a
// real device file, the import fails with kUnimplemented without keeping
// the fd, and both teardowns (kept, handed out) close every fd they held.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/testing/rdma_test_env.h"
#include "common/verbs/context.h"
#include "common/verbs/pd.h"
#include "common/verbs/shareable_context.h"

namespace swift::verbs {
namespace {

int OpenFdCount() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return -1;
  }
  int count = 0;
  while (readdir(dir) != nullptr) {
    ++count;
  }
  closedir(dir);
  return count;
}

class ShareableContextRdmaTest : public ::testing::Test {
 protected:
  void SetUp() override { SWIFT_REQUIRE_RDMA_DEVICE(); }
};

TEST_F(ShareableContextRdmaTest, HandsOutTheDeviceFileAndRxeRefusesTheImport) {
  const int baseline = OpenFdCount();
  {
    absl::StatusOr<std::unique_ptr<ShareableContext>> shared =
        ShareableContext::Open(swift::testing::TestDeviceName());
    ASSERT_TRUE(shared.ok()) << shared.status();
    EXPECT_EQ((*shared)->device(), swift::testing::TestDeviceName());
    EXPECT_GT((*shared)->pd_handle() + 1, 0u);

    absl::StatusOr<UniqueFd> fd = (*shared)->DupCommandFd();
    ASSERT_TRUE(fd.ok()) << fd.status();
    struct stat st;
    ASSERT_EQ(fstat(fd->get(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << "a uverbs device file";

    const int before_import = OpenFdCount();
    absl::StatusOr<std::shared_ptr<Context>> imported =
        Context::Import(*std::move(fd));
    ASSERT_FALSE(imported.ok());
    EXPECT_EQ(imported.status().code(), absl::StatusCode::kUnimplemented)
        << imported.status();
    EXPECT_NE(imported.status().message().find("ibv_import_device"),
              std::string::npos)
        << imported.status();
    EXPECT_EQ(OpenFdCount(), before_import - 1)
        << "a refused import closes the fd it was given";
  }
  EXPECT_EQ(OpenFdCount(), baseline) << "the context and PD are closed";
}

TEST_F(ShareableContextRdmaTest, AHandedOutContextClosesSwiftdsCopyToo) {
  const int baseline = OpenFdCount();
  {
    absl::StatusOr<std::unique_ptr<ShareableContext>> shared =
        ShareableContext::Open(swift::testing::TestDeviceName());
    ASSERT_TRUE(shared.ok()) << shared.status();
    absl::StatusOr<UniqueFd> fd = (*shared)->DupCommandFd();
    ASSERT_TRUE(fd.ok()) << fd.status();
    (*shared)->MarkHandedOut();
    EXPECT_TRUE((*shared)->handed_out());
  }
  EXPECT_EQ(OpenFdCount(), baseline);
}

TEST_F(ShareableContextRdmaTest, AnOwnPdCannotBeImportedOnRxe) {
  absl::StatusOr<std::shared_ptr<Context>> context =
      Context::OpenByName(swift::testing::TestDeviceName());
  ASSERT_TRUE(context.ok()) << context.status();
  absl::StatusOr<std::shared_ptr<Pd>> pd = Pd::Allocate(*context);
  ASSERT_TRUE(pd.ok()) << pd.status();
  absl::StatusOr<std::shared_ptr<Pd>> imported =
      Pd::Import(*context, (*pd)->get()->handle);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kUnimplemented)
      << imported.status();
}

TEST_F(ShareableContextRdmaTest, AnUnknownDeviceIsNotFound) {
  absl::StatusOr<std::unique_ptr<ShareableContext>> shared =
      ShareableContext::Open("no_such_device0");
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace swift::verbs
