// Tests of CheckFunctionLibrary() (function_library.h): the library is
// opened as the tenant, which learns nothing about files it may not read,
// and nobody but root and the function's user may change it.
#include "daemon/functions/function_library.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "daemon/functions/testing/child_count.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::CountChildren;

constexpr uid_t kNobody = 65534;

class FunctionLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root to check as another user";
    }
    char pattern[] = "/tmp/function-library-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    nobody_.uid = kNobody;
    nobody_.gid = kNobody;
    nobody_.switch_user = true;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      (void)!system(absl::StrCat("rm -rf '", dir_, "'").c_str());
    }
  }

  std::string Library(const std::string& name, mode_t mode) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path) << "not really a library";
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  std::string dir_;
  TenantIdentity nobody_;
  const TenantIdentity as_swiftd_{};
};

TEST_F(FunctionLibraryTest, AReadableLibraryIsAccepted) {
  const std::string library = Library("f.so", 0644);
  EXPECT_TRUE(CheckFunctionLibrary(nobody_, library).ok());
  EXPECT_TRUE(CheckFunctionLibrary(as_swiftd_, library).ok());
  // The check's child is reaped.
  EXPECT_EQ(CountChildren().zombies, 0);
  EXPECT_EQ(CountChildren().live, 0);
}

// Issue 10, finding 8: swiftd checked the library with access() as root
// before the tenant checks, so a tenant told "/root/x" from
// "/root/nonexistent" by the error it got.
TEST_F(FunctionLibraryTest, MissingAndUnreadableLookTheSameToTheTenant) {
  ASSERT_EQ(mkdir((dir_ + "/private").c_str(), 0700), 0);
  const std::string hidden = Library("private/x.so", 0644);
  const std::string missing = dir_ + "/private/none.so";
  const absl::Status unreadable = CheckFunctionLibrary(nobody_, hidden);
  const absl::Status absent = CheckFunctionLibrary(nobody_, missing);
  EXPECT_EQ(unreadable.code(), absl::StatusCode::kNotFound) << unreadable;
  EXPECT_EQ(absent.code(), unreadable.code()) << absent;
  EXPECT_EQ(absl::StrReplaceAll(unreadable.message(), {{hidden, "PATH"}}),
            absl::StrReplaceAll(absent.message(), {{missing, "PATH"}}));
  EXPECT_TRUE(
      absl::StrContains(unreadable.message(), "no readable function library"))
      << unreadable;
  // A file readable by its owner only, in a directory the tenant enters.
  const std::string owner_only = Library("owner_only.so", 0600);
  EXPECT_EQ(CheckFunctionLibrary(nobody_, owner_only).code(),
            absl::StatusCode::kNotFound);
  // Root reads both that exist.
  EXPECT_TRUE(CheckFunctionLibrary(as_swiftd_, hidden).ok());
  EXPECT_EQ(CheckFunctionLibrary(as_swiftd_, missing).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CountChildren().zombies, 0);
}

// Issue 10, finding 8: a world-writable library was accepted for a
// function that runs as root.
TEST_F(FunctionLibraryTest, ALibraryOthersCouldChangeIsRefusedNamingIt) {
  const std::string writable = Library("writable.so", 0666);
  absl::Status status = CheckFunctionLibrary(as_swiftd_, writable);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), writable)) << status;
  EXPECT_EQ(CheckFunctionLibrary(nobody_, writable).code(),
            absl::StatusCode::kPermissionDenied);

  // A directory on the way that another user owns.
  const std::string theirs = dir_ + "/theirs";
  ASSERT_EQ(mkdir(theirs.c_str(), 0755), 0);
  ASSERT_EQ(chown(theirs.c_str(), kNobody, kNobody), 0);
  const std::string inside = Library("theirs/f.so", 0644);
  status = CheckFunctionLibrary(as_swiftd_, inside);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), theirs + " (mode")) << status;
  // For a function that runs as that user, its own directory is fine.
  EXPECT_TRUE(CheckFunctionLibrary(nobody_, inside).ok());
  // And so is its own library; root's function may not run it.
  const std::string own = Library("own.so", 0644);
  ASSERT_EQ(chown(own.c_str(), kNobody, kNobody), 0);
  EXPECT_TRUE(CheckFunctionLibrary(nobody_, own).ok());
  EXPECT_EQ(CheckFunctionLibrary(as_swiftd_, own).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(FunctionLibraryTest, AFifoOrDirectoryIsNotALibraryAndDoesNotHang) {
  const std::string fifo = dir_ + "/fifo.so";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(CheckFunctionLibrary(nobody_, fifo).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckFunctionLibrary(as_swiftd_, fifo).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckFunctionLibrary(nobody_, dir_).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckFunctionLibrary(nobody_, "relative.so").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swift
