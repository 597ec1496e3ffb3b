#include "daemon/transport/socket_path.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "common/testing/unix_socket_testing.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

class SocketPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/swift-sock-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::string command = "rm -rf " + dir_;
    ASSERT_EQ(system(command.c_str()), 0);
  }

  UniqueFd Bind(const std::string& path, bool listen_too) {
    return testing::BindUnixSocket(path, SOCK_STREAM, listen_too);
  }

  std::string dir_;
};

TEST_F(SocketPathTest, OneLockHolderAtATime) {
  const std::string path = dir_ + "/run/swiftd.sock";
  absl::StatusOr<SocketLock> first = SocketLock::Acquire(path);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->lock_path(), path + ".lock");
  absl::StatusOr<SocketLock> second = SocketLock::Acquire(path);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find(path), absl::string_view::npos);
  // Another process is refused too (flock locks are per open file).
  pid_t child = fork();
  if (child == 0) {
    _exit(SocketLock::Acquire(path).status().code() ==
                  absl::StatusCode::kAlreadyExists
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  first = absl::UnknownError("released");
  EXPECT_TRUE(SocketLock::Acquire(path).ok());
}

TEST_F(SocketPathTest, LockRefusesWhatIsNotARegularFile) {
  const std::string path = dir_ + "/swiftd.sock";
  ASSERT_EQ(mkfifo((path + ".lock").c_str(), 0600), 0);
  absl::StatusOr<SocketLock> lock = SocketLock::Acquire(path);
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition)
      << lock.status();
  ASSERT_EQ(unlink((path + ".lock").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd", (path + ".lock").c_str()), 0);
  EXPECT_FALSE(SocketLock::Acquire(path).ok());
}

TEST_F(SocketPathTest, LockRefusesAPathTooLong) {
  EXPECT_EQ(
      SocketLock::Acquire(dir_ + "/" + std::string(120, 's')).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(SocketPathTest, CreatesTheMissingDirectory) {
  const std::string path = dir_ + "/run/swiftd.sock";
  ASSERT_TRUE(PrepareSocketPath(path).ok());
  struct stat info;
  ASSERT_EQ(stat((dir_ + "/run").c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
}

TEST_F(SocketPathTest, RemovesAStaleSocket) {
  const std::string path = dir_ + "/swiftd.sock";
  { UniqueFd dead = Bind(path, /*listen_too=*/false); }
  ASSERT_EQ(access(path.c_str(), F_OK), 0);
  ASSERT_TRUE(PrepareSocketPath(path).ok());
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST_F(SocketPathTest, RefusesWhenSomebodyServes) {
  const std::string path = dir_ + "/swiftd.sock";
  UniqueFd live = Bind(path, /*listen_too=*/true);
  EXPECT_EQ(PrepareSocketPath(path).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
}

TEST_F(SocketPathTest, NeverRemovesAFileThatIsNotASocket) {
  const std::string path = dir_ + "/important.txt";
  std::ofstream(path) << "keep me";
  EXPECT_EQ(PrepareSocketPath(path).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
}

TEST_F(SocketPathTest, RejectsPathsTooLongForSunPath) {
  EXPECT_EQ(PrepareSocketPath(dir_ + "/" + std::string(120, 's')).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SocketPathTest, SecureSocketSetsModeAndRejectsUnknownGroups) {
  const std::string path = dir_ + "/swiftd.sock";
  UniqueFd live = Bind(path, /*listen_too=*/true);
  ASSERT_TRUE(SecureSocket(path, 0660, "").ok());
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
  EXPECT_EQ(SecureSocket(path, 0660, "no-such-group-swift").code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace swift
