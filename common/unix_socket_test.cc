#include "common/unix_socket.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/testing/unix_socket_testing.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

// Bazel's TEST_TMPDIR is longer than sun_path allows; /tmp is shared with
// the sandbox.
std::string MakeTempDir() {
  char dir[] = "/tmp/swift-test-XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  return dir;
}

UniqueFd BindUnix(const std::string& path, bool listen_too) {
  return testing::BindUnixSocket(path, SOCK_STREAM, listen_too);
}

TEST(ProbeUnixSocketTest, ReportsEachStateOfTheSocketFile) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/s.sock";

  EXPECT_EQ(ProbeUnixSocket(path).code(), absl::StatusCode::kNotFound);
  {
    UniqueFd listener = BindUnix(path, /*listen_too=*/true);
    EXPECT_TRUE(ProbeUnixSocket(path).ok());
  }
  // The listener is gone but its file stays: a stale socket.
  EXPECT_EQ(ProbeUnixSocket(path).code(), absl::StatusCode::kUnavailable);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST(ProbeUnixSocketTest, RejectsPathsThatDoNotFitSunPath) {
  EXPECT_EQ(ProbeUnixSocket("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProbeUnixSocket("/tmp/" + std::string(200, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SocketPathsTest, FastPathAndHintsLiveBesideTheControlSocket) {
  EXPECT_EQ(FastPathSocketPath("/run/swift/swiftd.sock"),
            "/run/swift/swiftd.fast.sock");
  EXPECT_EQ(PreloadHintsPath("/run/swift/swiftd.sock"),
            "/run/swift/preload.hints");
  EXPECT_EQ(PreloadHintsPath("/swiftd.sock"), "/preload.hints");
  EXPECT_EQ(PreloadHintsPath("swiftd.sock"), "./preload.hints");
}

TEST(UniqueFdTest, ClosesOnDestructionAndTransfersOnMove) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  {
    UniqueFd read_end(pipe_fds[0]);
    UniqueFd moved = std::move(read_end);
    EXPECT_FALSE(read_end.valid());
    EXPECT_EQ(moved.get(), pipe_fds[0]);
  }
  // The read end is closed: writing raises EPIPE instead of succeeding.
  signal(SIGPIPE, SIG_IGN);
  EXPECT_EQ(write(pipe_fds[1], "x", 1), -1);
  close(pipe_fds[1]);
}

}  // namespace
}  // namespace swift
