// Tests fuzz_support's descriptor count: it must see every descriptor the
// code under test opens, and none of the sanitizer runtime's probe pipes.
#include "tests/fuzz/fuzz_support.h"

#include <fcntl.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace swift::fuzz {
namespace {

TEST(OpenFdCountTest, CountsCloexecPipesAndFiles) {
  const int before = OpenFdCount();
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  const int file = open("/dev/null", O_RDONLY);  // Not O_CLOEXEC: counted.
  ASSERT_GE(file, 0);
  EXPECT_EQ(OpenFdCount(), before + 3);
  close(fds[0]);
  close(fds[1]);
  close(file);
  EXPECT_EQ(OpenFdCount(), before);
}

// The sanitizer runtime's memory probe: a pipe without O_CLOEXEC, open
// for a moment on another thread. It made a clean fast_path_fuzz run fail
// with "5 descriptors open, expected 7".
TEST(OpenFdCountTest, IgnoresPipesWithoutCloexec) {
  const int before = OpenFdCount();
  int fds[2];
  ASSERT_EQ(pipe2(fds, 0), 0);
  EXPECT_EQ(OpenFdCount(), before);
  close(fds[0]);
  close(fds[1]);
  EXPECT_EQ(OpenFdCount(), before);
}

}  // namespace
}  // namespace swift::fuzz
