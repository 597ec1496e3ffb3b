// Tests of PrefaultForkedChild(): in a forked child, the private pages it
// shares with its parent become its own with their contents intact, and
// the parent's memory is untouched.
#include "daemon/worker/fork/prefault.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/worker/fork/child_process.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

constexpr uint64_t kExclusive = uint64_t{1} << 56;

// The pagemap entry of the page holding `address` in this process.
uint64_t PagemapEntry(const void* address) {
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  uint64_t entry = 0;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  pread(fd, &entry, sizeof(entry),
        reinterpret_cast<uintptr_t>(address) / page * sizeof(entry));
  close(fd);
  return entry;
}

TEST(PrefaultTest, ChildOwnsItsPagesWithTheirContents) {
  // 64 pages of heap, written (present) before the fork.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<uint8_t> heap(64 * page);
  for (size_t i = 0; i < heap.size(); ++i) {
    heap[i] = static_cast<uint8_t>(i * 7 + 3);
  }
  const pid_t parent = getpid();
  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        const bool shared_before =
            (PagemapEntry(&heap[page]) & kExclusive) == 0;
        absl::StatusOr<PrefaultStats> stats = PrefaultForkedChild(parent);
        if (!stats.ok()) {
          return stats.status();
        }
        const bool owned_after = (PagemapEntry(&heap[page]) & kExclusive) != 0;
        for (size_t i = 0; i < heap.size(); ++i) {
          if (heap[i] != static_cast<uint8_t>(i * 7 + 3)) {
            return absl::InternalError(absl::StrCat("byte ", i, " changed"));
          }
        }
        // The child's writes stay its own.
        std::memset(heap.data(), 0xee, heap.size());
        return absl::StrCat(shared_before, owned_after, " ",
                            stats->copied_pages >= 64, stats->mapped_pages > 0);
      },
      absl::Seconds(60));
  if (absl::IsUnimplemented(child.status())) {
    GTEST_SKIP() << child.status().message();
  }
  ASSERT_TRUE(child.ok()) << child.status();
  // Shared before, owned after; at least the 64 pages copied, code mapped.
  EXPECT_EQ(*child, "11 11");
  for (size_t i = 0; i < heap.size(); ++i) {
    ASSERT_EQ(heap[i], static_cast<uint8_t>(i * 7 + 3)) << "byte " << i;
  }
}

TEST(PrefaultTest, AParentOutOfReachOnlySkipsTheCodePages) {
  // No such process: its pagemap cannot be read; our own pages still are.
  std::vector<uint8_t> heap(16 * static_cast<size_t>(sysconf(_SC_PAGESIZE)), 1);
  absl::StatusOr<std::string> child = RunInChild(
      []() -> absl::StatusOr<std::string> {
        absl::StatusOr<PrefaultStats> stats = PrefaultForkedChild(-1);
        if (!stats.ok()) {
          return stats.status();
        }
        return absl::StrCat(stats->copied_pages >= 16, stats->mapped_pages);
      },
      absl::Seconds(60));
  if (absl::IsUnimplemented(child.status())) {
    GTEST_SKIP() << child.status().message();
  }
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(*child, "10");
}

// A sanitizer's shadow memory is a writable private mapping of many TiB,
// barely populated. Walking it read 8 bytes of pagemap per page: an ASan
// build's spare instance never became ready (the test timed out at 60 s).
TEST(PrefaultTest, AHugeReservationIsSkippedNotWalked) {
  const size_t huge = size_t{8} << 40;  // 8 TiB of address space, no memory.
  void* reservation = mmap(nullptr, huge, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reservation == MAP_FAILED) {
    GTEST_SKIP() << "cannot reserve 8 TiB of address space here";
  }
  static_cast<uint8_t*>(reservation)[0] = 1;  // One page present.
  absl::StatusOr<std::string> child = RunInChild(
      []() -> absl::StatusOr<std::string> {
        absl::StatusOr<PrefaultStats> stats = PrefaultForkedChild(getppid());
        if (!stats.ok()) {
          return stats.status();
        }
        return absl::StrCat(stats->skipped_mappings >= 1);
      },
      absl::Seconds(30));
  munmap(reservation, huge);
  if (absl::IsUnimplemented(child.status())) {
    GTEST_SKIP() << child.status().message();
  }
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(*child, "1");
}

}  // namespace
}  // namespace swift
