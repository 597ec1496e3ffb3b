// Fork mode preconditions: the fork-status verdicts, and CheckSharedMemory()
// on real mappings of this process (heap, private and shared anonymous
// memory, memfd regions, and a range that mixes them).
#include "daemon/worker/fork/fork_support.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "daemon/worker/fork/child_process.h"
#include "common/verbs/shared_region.h"

namespace swift {
namespace {

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// An mmap() owned for the length of a test.
class Mapping {
 public:
  Mapping(size_t length, int flags, int fd = -1)
      : length_(length),
        data_(mmap(nullptr, length, PROT_READ | PROT_WRITE, flags, fd, 0)) {}
  ~Mapping() {
    if (data_ != MAP_FAILED) {
      munmap(data_, length_);
    }
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  bool ok() const { return data_ != MAP_FAILED; }
  uint8_t* data() const { return static_cast<uint8_t*>(data_); }

 private:
  const size_t length_;
  void* const data_;
};

TEST(ForkModeStatusTest, OnlyCopyOnForkKernelWithoutForkSafeIsOk) {
  EXPECT_TRUE(ForkModeStatus(IBV_FORK_UNNEEDED, "").ok());
  for (ibv_fork_status status : {IBV_FORK_DISABLED, IBV_FORK_ENABLED}) {
    const absl::Status verdict = ForkModeStatus(status, "");
    EXPECT_EQ(verdict.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(verdict.message().find("fork mode needs a kernel that copies "
                                     "pinned pages at fork (>= 5.13)"),
              absl::string_view::npos)
        << verdict;
  }
  EXPECT_NE(ForkModeStatus(IBV_FORK_ENABLED, "")
                .message()
                .find("ibv_fork_init() is in effect"),
            absl::string_view::npos);
}

TEST(ForkModeStatusTest, ForkSafeVariableIsRefusedEvenOnACopyOnForkKernel) {
  const absl::Status verdict =
      ForkModeStatus(IBV_FORK_UNNEEDED, "RDMAV_FORK_SAFE");
  EXPECT_EQ(verdict.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(verdict.message().find("RDMAV_FORK_SAFE is set"),
            absl::string_view::npos)
      << verdict;
  EXPECT_NE(verdict.message().find("MADV_DONTFORK"), absl::string_view::npos)
      << verdict;
}

TEST(ForkModeStatusTest, CheckCopyOnForkKernelHonoursTheEnvironment) {
  ASSERT_EQ(std::getenv("IBV_FORK_SAFE"), nullptr);
  ASSERT_EQ(std::getenv("RDMAV_FORK_SAFE"), nullptr);
  // Whatever this kernel is, the variable alone makes it fail, naming it.
  // (libibverbs reads the variable only when it initializes, which the
  // check does not trigger here, so setting it has no other effect.)
  ASSERT_EQ(setenv("IBV_FORK_SAFE", "1", 1), 0);
  const absl::Status verdict = CheckCopyOnForkKernel();
  ASSERT_EQ(unsetenv("IBV_FORK_SAFE"), 0);
  EXPECT_EQ(verdict.code(), absl::StatusCode::kFailedPrecondition);
  if (ibv_is_fork_initialized() == IBV_FORK_UNNEEDED) {
    // Otherwise the kernel verdict comes first.
    EXPECT_NE(verdict.message().find("IBV_FORK_SAFE is set"),
              absl::string_view::npos)
        << verdict;
  }
}

TEST(CheckSharedMemoryTest, MemfdRegionIsShared) {
  absl::StatusOr<verbs::SharedRegion> region =
      verbs::SharedRegion::Create("fork-support-test", 3 * PageSize());
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_TRUE(CheckSharedMemory(region->data(), region->size()).ok());
  EXPECT_TRUE(CheckSharedMemory(region->data() + 100, 200).ok());
}

TEST(CheckSharedMemoryTest, SharedAnonymousMemoryIsShared) {
  Mapping shared(PageSize(), MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_TRUE(shared.ok());
  EXPECT_TRUE(CheckSharedMemory(shared.data(), PageSize()).ok());
}

TEST(CheckSharedMemoryTest, HeapMemoryIsRefused) {
  // Small enough for malloc's heap, touched so it is mapped.
  std::vector<uint8_t> heap(4000, 1);
  const absl::Status status = CheckSharedMemory(heap.data(), heap.size());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find(
                absl::StrFormat("[%p,", static_cast<const void*>(heap.data()))),
            absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find("private (MAP_PRIVATE/anonymous) memory "
                                  "registered before fork is a snapshot in "
                                  "the child"),
            absl::string_view::npos)
      << status;
}

TEST(CheckSharedMemoryTest, PrivateAnonymousMemoryIsRefused) {
  Mapping private_memory(2 * PageSize(), MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_TRUE(private_memory.ok());
  std::memset(private_memory.data(), 1, 2 * PageSize());
  EXPECT_EQ(CheckSharedMemory(private_memory.data(), 2 * PageSize()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CheckSharedMemoryTest, RangeThatIsOnlyPartlySharedIsRefused) {
  // Two private pages, then a memfd page mapped over the first one: one
  // shared page followed by one private page, at consecutive addresses.
  Mapping two_pages(2 * PageSize(), MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_TRUE(two_pages.ok());
  absl::StatusOr<verbs::SharedRegion> region =
      verbs::SharedRegion::Create("fork-support-mixed", PageSize());
  ASSERT_TRUE(region.ok()) << region.status();
  void* over = mmap(two_pages.data(), PageSize(), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_FIXED, region->fd(), 0);
  ASSERT_EQ(over, static_cast<void*>(two_pages.data()));

  EXPECT_TRUE(CheckSharedMemory(two_pages.data(), PageSize()).ok());
  const absl::Status status =
      CheckSharedMemory(two_pages.data(), PageSize() + 1);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find(absl::StrFormat(
                "%p lies in the private mapping",
                static_cast<const void*>(two_pages.data() + PageSize()))),
            absl::string_view::npos)
      << status;
}

TEST(CheckSharedMemoryTest, UnmappedMemoryIsAnInvalidArgument) {
  uint8_t* hole = nullptr;
  {
    Mapping gone(PageSize(), MAP_PRIVATE | MAP_ANONYMOUS);
    ASSERT_TRUE(gone.ok());
    hole = gone.data();
  }
  EXPECT_EQ(CheckSharedMemory(hole, PageSize()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CheckSharedMemoryTest, ChildSeesTheSameVerdictsAsItsParent) {
  absl::StatusOr<verbs::SharedRegion> region =
      verbs::SharedRegion::Create("fork-support-child", PageSize());
  ASSERT_TRUE(region.ok()) << region.status();
  std::vector<uint8_t> heap(4000, 1);
  absl::StatusOr<std::string> child = RunInChild(
      [&]() -> absl::StatusOr<std::string> {
        const absl::Status shared =
            CheckSharedMemory(region->data(), region->size());
        const absl::Status private_memory =
            CheckSharedMemory(heap.data(), heap.size());
        return absl::StrFormat("%d %d", static_cast<int>(shared.code()),
                               static_cast<int>(private_memory.code()));
      },
      absl::Seconds(30));
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(
      *child,
      absl::StrFormat("%d %d", static_cast<int>(absl::StatusCode::kOk),
                      static_cast<int>(absl::StatusCode::kFailedPrecondition)));
}

}  // namespace
}  // namespace swift
