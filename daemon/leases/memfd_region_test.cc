#include "daemon/leases/memfd_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(MemfdRegionTest, RoundsUpToWholePages) {
  const uint64_t page = MemfdRegion::PageBytes();
  EXPECT_EQ(MemfdRegion::RoundUp(1, false), page);
  EXPECT_EQ(MemfdRegion::RoundUp(page, false), page);
  EXPECT_EQ(MemfdRegion::RoundUp(page + 1, false), 2 * page);
  EXPECT_EQ(MemfdRegion::RoundUp(1, true), MemfdRegion::HugepageBytes());
}

TEST(MemfdRegionTest, RefusesZeroBytes) {
  absl::StatusOr<MemfdRegion> region = MemfdRegion::Create("t", 0, false);
  EXPECT_EQ(region.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MemfdRegionTest, IsPopulatedTrimmedZeroAndSealedAgainstResizing) {
  constexpr uint64_t kRegion = 1 << 20;
  absl::StatusOr<MemfdRegion> region = MemfdRegion::Create("t", kRegion, false);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->size(), kRegion);
  // Every page is allocated already: the file's blocks cover it.
  struct stat info = {};
  ASSERT_EQ(fstat(region->fd(), &info), 0);
  EXPECT_GE(static_cast<uint64_t>(info.st_blocks) * 512, kRegion);

  ASSERT_TRUE(region->TrimAndSeal(10000).ok());
  const uint64_t size = MemfdRegion::RoundUp(10000, false);
  EXPECT_EQ(region->size(), size);
  ASSERT_EQ(fstat(region->fd(), &info), 0);
  EXPECT_EQ(static_cast<uint64_t>(info.st_size), size);
  EXPECT_EQ(fcntl(region->fd(), F_GET_SEALS),
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);

  absl::StatusOr<UniqueFd> copy = region->Duplicate();
  ASSERT_TRUE(copy.ok());
  EXPECT_NE(ftruncate(copy->get(), size / 2), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(ftruncate(copy->get(), size * 2), 0);
  EXPECT_NE(fcntl(copy->get(), F_ADD_SEALS, F_SEAL_WRITE), 0);
  auto* bytes = static_cast<unsigned char*>(
      mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, copy->get(), 0));
  ASSERT_NE(bytes, MAP_FAILED);
  for (uint64_t i = 0; i < size; ++i) {
    ASSERT_EQ(bytes[i], 0) << "byte " << i;
  }
  munmap(bytes, size);
  EXPECT_EQ(region->TrimAndSeal(100).code(),
            absl::StatusCode::kFailedPrecondition);
}

// A memfd's fallocate() reserves pages without zeroing them; their first
// fault zeroes them, which would happen in the lease holder's cold start.
// mincore() reports a page of a memfd as present only once it is up to
// date (zeroed): every page must be, before any holder maps it.
TEST(MemfdRegionTest, PagesAreZeroedBeforeAnyHolderMapsThem) {
  constexpr uint64_t kRegion = 1 << 20;
  absl::StatusOr<MemfdRegion> region = MemfdRegion::Create("t", kRegion, false);
  ASSERT_TRUE(region.ok()) << region.status();
  void* mapping =
      mmap(nullptr, kRegion, PROT_READ, MAP_SHARED, region->fd(), 0);
  ASSERT_NE(mapping, MAP_FAILED);
  const uint64_t pages = kRegion / MemfdRegion::PageBytes();
  std::vector<unsigned char> present(pages);
  ASSERT_EQ(mincore(mapping, kRegion, present.data()), 0);
  int up_to_date = 0;
  for (const unsigned char page : present) {
    up_to_date += page & 1;
  }
  EXPECT_EQ(up_to_date, static_cast<int>(pages));
  munmap(mapping, kRegion);
}

TEST(MemfdRegionTest, RefusesToTrimLarger) {
  absl::StatusOr<MemfdRegion> region = MemfdRegion::Create("t", 4096, false);
  ASSERT_TRUE(region.ok());
  EXPECT_EQ(region->TrimAndSeal(1 << 20).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MemfdRegionTest, FallsBackToNormalPagesWithoutHugePages) {
  const uint64_t huge = MemfdRegion::HugepageBytes();
  absl::StatusOr<MemfdRegion> region = MemfdRegion::Create("t", huge, true);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->size(), huge);  // Either way, whole huge pages.
  ASSERT_TRUE(region->TrimAndSeal(1).ok());
  EXPECT_EQ(region->size(),
            region->hugepage() ? huge : MemfdRegion::PageBytes());
}

}  // namespace
}  // namespace swift
