// ChangeBoard: a tenant's page counts its changes, is shared read-only,
// one per tenant, and bounded.
#include "daemon/broker/change_board.h"

#include <sys/mman.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace swift {
namespace {

const ChangePage* Map(const UniqueFd& fd) {
  void* mapped =
      mmap(nullptr, ChangePage::kBytes, PROT_READ, MAP_SHARED, fd.get(), 0);
  EXPECT_NE(mapped, MAP_FAILED);
  return static_cast<const ChangePage*>(mapped);
}

TEST(ChangeBoardTest, AHoldersPageShowsItsTenantsChangesOnly) {
  ChangeBoard board;
  absl::StatusOr<ChangeBoard::Shared> mine = board.Share(1000);
  absl::StatusOr<ChangeBoard::Shared> theirs = board.Share(1001);
  ASSERT_TRUE(mine.ok() && theirs.ok());
  EXPECT_EQ(mine->generation, 0u);
  const ChangePage* page = Map(mine->fd);
  EXPECT_EQ(page->magic, ChangePage::kMagic);
  board.Bump(1000);
  board.Bump(1000);
  board.Bump(1001);
  board.Bump(1002);  // No page: nobody watches; nothing made.
  EXPECT_EQ(LoadChangeGeneration(*page), 2u);
  EXPECT_EQ(board.Generation(1001), 1u);
  EXPECT_EQ(board.Generation(1002), 0u);
  // Asking again gives the same page, with its count.
  absl::StatusOr<ChangeBoard::Shared> again = board.Share(1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->generation, 2u);
  board.Bump(1000);
  EXPECT_EQ(LoadChangeGeneration(*Map(again->fd)), 3u);
  EXPECT_EQ(LoadChangeGeneration(*page), 3u);
}

TEST(ChangeBoardTest, HoldersCanNeitherWriteNorResizeThePage) {
  ChangeBoard board;
  absl::StatusOr<ChangeBoard::Shared> shared = board.Share(1000);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(mmap(nullptr, ChangePage::kBytes, PROT_READ | PROT_WRITE,
                 MAP_SHARED, shared->fd.get(), 0),
            MAP_FAILED);
  EXPECT_NE(ftruncate(shared->fd.get(), 0), 0);
}

TEST(ChangeBoardTest, PagesAreBoundedByTenant) {
  ChangeBoard board(/*max_pages=*/2);
  ASSERT_TRUE(board.Share(1).ok());
  ASSERT_TRUE(board.Share(2).ok());
  ASSERT_TRUE(board.Share(1).ok());  // Its page exists already.
  absl::StatusOr<ChangeBoard::Shared> third = board.Share(3);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace swift
