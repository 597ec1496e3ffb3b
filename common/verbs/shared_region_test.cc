// SharedRegion: memfd memory that another mapping and a forked child share.
#include "common/verbs/shared_region.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

namespace swift::verbs {
namespace {

TEST(SharedRegionTest, CreatesZeroedPageRoundedMemory) {
  absl::StatusOr<SharedRegion> region = SharedRegion::Create("test", 100);
  ASSERT_TRUE(region.ok()) << region.status();
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(region->size(), page);
  EXPECT_GE(region->fd(), 0);
  for (size_t i = 0; i < region->size(); ++i) {
    ASSERT_EQ(region->data()[i], 0) << "byte " << i;
  }
}

TEST(SharedRegionTest, ZeroSizeIsInvalid) {
  EXPECT_EQ(SharedRegion::Create("empty", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SharedRegionTest, MappingIsSharedAndNamedAsMemfd) {
  absl::StatusOr<SharedRegion> region = SharedRegion::Create("swift-test", 1);
  ASSERT_TRUE(region.ok()) << region.status();
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool found = false;
  while (std::getline(maps, line)) {
    if (line.find("/memfd:swift-test") != std::string::npos) {
      // The permission column is "rw-s": s = shared, not copy-on-write.
      EXPECT_NE(line.find("rw-s"), std::string::npos) << line;
      found = true;
    }
  }
  EXPECT_TRUE(found) << "no /memfd:swift-test mapping in /proc/self/maps";
}

TEST(SharedRegionTest, SecondMappingOfTheFdSeesTheSameBytes) {
  absl::StatusOr<SharedRegion> first = SharedRegion::Create("pair", 8192);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<SharedRegion> second =
      SharedRegion::FromFd(UniqueFd(dup(first->fd())));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->size(), first->size());
  EXPECT_NE(second->data(), first->data());
  std::memcpy(first->data() + 4096, "hello", 5);
  EXPECT_EQ(std::memcmp(second->data() + 4096, "hello", 5), 0);
  second->data()[0] = 0x5a;
  EXPECT_EQ(first->data()[0], 0x5a);
}

TEST(SharedRegionTest, ForkedChildWritesAreVisibleToTheParent) {
  absl::StatusOr<SharedRegion> region = SharedRegion::Create("fork", 4096);
  ASSERT_TRUE(region.ok()) << region.status();
  std::memcpy(region->data(), "PARENT", 6);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Private memory would be a copy here; shared memory is the same page.
    const bool saw_parent = std::memcmp(region->data(), "PARENT", 6) == 0;
    std::memcpy(region->data(), "CHILD!", 6);
    _exit(saw_parent ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child did not see the parent's bytes";
  EXPECT_EQ(std::memcmp(region->data(), "CHILD!", 6), 0);
}

TEST(SharedRegionTest, MoveKeepsTheMappingAndEmptiesTheSource) {
  absl::StatusOr<SharedRegion> region = SharedRegion::Create("move", 4096);
  ASSERT_TRUE(region.ok()) << region.status();
  uint8_t* data = region->data();
  SharedRegion moved = std::move(*region);
  EXPECT_EQ(moved.data(), data);
  EXPECT_EQ(region->data(), nullptr);  // NOLINT: checking moved-from state.
  EXPECT_EQ(region->fd(), -1);
  moved.data()[0] = 1;
}

TEST(SharedRegionTest, FromInvalidOrEmptyFdIsInvalid) {
  EXPECT_EQ(SharedRegion::FromFd(UniqueFd()).status().code(),
            absl::StatusCode::kInvalidArgument);
  UniqueFd empty(memfd_create("empty", MFD_CLOEXEC));
  ASSERT_TRUE(empty.valid());
  EXPECT_EQ(SharedRegion::FromFd(std::move(empty)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swift::verbs
