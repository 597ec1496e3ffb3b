// ProcMaps: parsing /proc/PID/maps text and deciding whether a range is
// all MAP_SHARED, on synthetic maps.
#include "daemon/worker/fork/proc_maps.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace swift {
namespace {

// A process with a heap, a memfd region (two adjacent shared mappings of
// it), a private anonymous mapping right after them, a shared anonymous
// mapping after a hole, and the vsyscall page.
constexpr char kMaps[] =
    "55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                  "
    "[heap]\n"
    "7f0000000000-7f0000002000 rw-s 00000000 00:01 4242               "
    "/memfd:swift-fork (deleted)\n"
    "7f0000002000-7f0000004000 rw-s 00002000 00:01 4242               "
    "/memfd:swift-fork (deleted)\n"
    "7f0000004000-7f0000005000 rw-p 00000000 00:00 0 \n"
    "7f0000010000-7f0000011000 rw-s 00000000 00:01 77                 "
    "/dev/zero (deleted)\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0          "
    "[vsyscall]\n";

std::vector<MapsEntry> Maps() {
  absl::StatusOr<std::vector<MapsEntry>> maps = ParseProcMaps(kMaps);
  EXPECT_TRUE(maps.ok()) << maps.status();
  return maps.ok() ? *maps : std::vector<MapsEntry>();
}

TEST(ProcMapsTest, ParsesEveryFieldIncludingPathsWithSpaces) {
  const std::vector<MapsEntry> maps = Maps();
  ASSERT_EQ(maps.size(), 6u);
  EXPECT_EQ(maps[0].begin, 0x55d0c0a00000u);
  EXPECT_EQ(maps[0].end, 0x55d0c0a21000u);
  EXPECT_EQ(maps[0].perms, "rw-p");
  EXPECT_EQ(maps[0].path, "[heap]");
  EXPECT_FALSE(maps[0].shared());
  EXPECT_EQ(maps[1].path, "/memfd:swift-fork (deleted)");
  EXPECT_TRUE(maps[1].shared());
  EXPECT_EQ(maps[3].path, "");  // Anonymous: no path, trailing blank.
  EXPECT_FALSE(maps[3].shared());
  EXPECT_TRUE(maps[4].shared());
  EXPECT_EQ(maps[5].begin, 0xffffffffff600000u);
  EXPECT_EQ(maps[5].line,
            "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0          "
            "[vsyscall]");
}

TEST(ProcMapsTest, EmptyTextHasNoMappings) {
  absl::StatusOr<std::vector<MapsEntry>> maps = ParseProcMaps("\n\n");
  ASSERT_TRUE(maps.ok()) << maps.status();
  EXPECT_TRUE(maps->empty());
}

TEST(ProcMapsTest, MalformedLinesAreRefusedNamingTheLine) {
  for (const char* bad : {
           "7f00-7f10 rw-s 00000000 00:01",            // Too few fields.
           "7f00 rw-s 00000000 00:01 1 /x",            // No '-' in the range.
           "7f00-zz10 rw-s 00000000 00:01 1 /x",       // Not hexadecimal.
           "7f10-7f00 rw-s 00000000 00:01 1 /x",       // Ends before it begins.
           "7f00-7f10 rw-shared 00000000 00:01 1 /x",  // Odd permissions.
       }) {
    absl::StatusOr<std::vector<MapsEntry>> maps = ParseProcMaps(bad);
    ASSERT_FALSE(maps.ok()) << bad;
    EXPECT_EQ(maps.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(maps.status().message().find(bad), absl::string_view::npos)
        << maps.status();
  }
}

TEST(ProcMapsTest, RangeInsideOneSharedMappingIsShared) {
  EXPECT_TRUE(CheckRangeShared(Maps(), 0x7f0000000100, 64).ok());
  // Exactly the whole mapping, up to its last byte.
  EXPECT_TRUE(CheckRangeShared(Maps(), 0x7f0000000000, 0x2000).ok());
  EXPECT_TRUE(CheckRangeShared(Maps(), 0x7f0000010000, 0x1000).ok());
}

TEST(ProcMapsTest, RangeAcrossAdjacentSharedMappingsIsShared) {
  EXPECT_TRUE(CheckRangeShared(Maps(), 0x7f0000001000, 0x2000).ok());
  EXPECT_TRUE(CheckRangeShared(Maps(), 0x7f0000000000, 0x4000).ok());
}

TEST(ProcMapsTest, PrivateHeapIsRefusedWithTheReason) {
  const absl::Status status = CheckRangeShared(Maps(), 0x55d0c0a00010, 256);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  const std::string message(status.message());
  EXPECT_NE(message.find("[0x55d0c0a00010, 0x55d0c0a00110)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("[heap]"), std::string::npos) << message;
  EXPECT_NE(message.find("snapshot in the child"), std::string::npos)
      << message;
  EXPECT_NE(message.find("register MAP_SHARED memory, e.g. a memfd"),
            std::string::npos)
      << message;
}

TEST(ProcMapsTest, RangeRunningFromSharedIntoPrivateIsRefusedAtTheBoundary) {
  // The last shared byte is 0x7f0000003fff; the range goes one page further.
  const absl::Status status = CheckRangeShared(Maps(), 0x7f0000003000, 0x2000);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  const std::string message(status.message());
  EXPECT_NE(message.find("0x7f0000004000 lies in the private mapping "
                         "'7f0000004000-7f0000005000 rw-p"),
            std::string::npos)
      << message;
}

TEST(ProcMapsTest, UnmappedBytesAreAnInvalidRange) {
  // Starting in the hole before the /dev/zero page (shared after it).
  absl::Status status = CheckRangeShared(Maps(), 0x7f000000f000, 0x2000);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("0x7f000000f000 is in no mapping"),
            absl::string_view::npos)
      << status;
  // Running past the end of the /dev/zero page into the hole after it.
  status = CheckRangeShared(Maps(), 0x7f0000010800, 0x1000);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("0x7f0000011000 is in no mapping"),
            absl::string_view::npos)
      << status;
}

TEST(ProcMapsTest, ZeroLengthAndWrappingRangesAreInvalid) {
  EXPECT_EQ(CheckRangeShared(Maps(), 0x7f0000000000, 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckRangeShared(Maps(), ~uintptr_t{0} - 10, 100).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ProcMapsTest, ReadsThisProcessMaps) {
  absl::StatusOr<std::string> text = ReadProcSelfMaps();
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<std::vector<MapsEntry>> maps = ParseProcMaps(*text);
  ASSERT_TRUE(maps.ok()) << maps.status();
  // This function's own code is mapped, and private.
  const auto code = reinterpret_cast<uintptr_t>(&ReadProcSelfMaps);
  bool found = false;
  for (const MapsEntry& entry : *maps) {
    if (entry.begin <= code && code < entry.end) {
      found = true;
      EXPECT_FALSE(entry.shared()) << entry.line;
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace swift
