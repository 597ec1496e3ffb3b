// Faults of the file system under swiftd (a host test, no RDMA; swiftd
// runs as a process, tests/swiftd_process.h). It mounts small tmpfs file
// systems, so it runs as root outside Bazel's sandbox ("no-sandbox").
//   - The socket directory on a full file system (no inode left) and on a
//     read-only one (an unwritable /run): swiftd exits non-zero at once
//     with a message naming the path and the reason, leaves no file
//     behind, and starts once the condition is gone.
//   - The state directory on a full file system at start (it cannot be
//     made): swiftd serves, saying in its log that registrations will not
//     survive a restart, naming the directory and the reason.
//   - The state directory on a full file system: swiftd serves (a state
//     directory is not needed to serve), a registration fails with a
//     clear error naming the directory and the reason, and leaves neither
//     a state file nor a temporary one, nor a worker; once space is free
//     the registration is stored.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/control/control_client.h"
#include "common/testing/eventually.h"
#include "common/testing/unix_socket_testing.h"
#include "common/unique_fd.h"
#include "tests/fault_observations.h"
#include "tests/fault_processes.h"
#include "tests/swiftd_process.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::CountChildren;
using ::swift::testing::Eventually;
using ::swift::testing::Observe;
using ::swift::testing::ReadWholeFile;
using ::swift::testing::RunfilePath;
using ::swift::testing::SwiftdProcess;
using ::swift::testing::TempDir;

// A tmpfs mounted on a fresh directory for the test's lifetime.
class Tmpfs {
 public:
  explicit Tmpfs(const std::string& options) {
    if (mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = strerror(errno);
    }
  }
  ~Tmpfs() {
    if (mounted_) umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return dir_.path(); }
  bool Remount(unsigned long flags) {
    return mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_REMOUNT | flags,
                 nullptr) == 0;
  }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

// Names in `directory`, sorted.
std::vector<std::string> Listing(const std::string& directory) {
  std::vector<std::string> names;
  if (DIR* dir = opendir(directory.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Creates files until the file system has no inode left; their paths.
std::vector<std::string> UseUpInodes(const std::string& directory) {
  std::vector<std::string> made;
  for (int i = 0; i < 10000; ++i) {
    const std::string path = absl::StrCat(directory, "/filler-", i);
    UniqueFd fd(open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    if (!fd.valid()) break;
    made.push_back(path);
  }
  return made;
}

// Writes into `path` until the file system is full.
void UseUpSpace(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  const std::string block(4096, 'x');
  while (write(fd.get(), block.data(), block.size()) > 0) {
  }
}

class FaultDiskTest : public ::testing::Test {
 protected:
  // Starts swiftd on `socket` and returns how it ended: its exit status,
  // -1 when it had to be killed because it still ran after 20 s.
  int RunSwiftdToItsEnd(const std::string& socket, const std::string& log) {
    SwiftdProcess::Options options;
    options.socket = socket;
    options.log = log;
    options.flags = {"--state_dir="};
    SwiftdProcess swiftd(options);
    absl::Notification ended;
    std::thread watchdog([&] {
      if (!ended.WaitForNotificationWithTimeout(absl::Seconds(20))) {
        swiftd.Signal(SIGKILL);
      }
    });
    const int status = swiftd.Wait();
    ended.Notify();
    watchdog.join();
    return status;
  }

  // Starts swiftd with `flags` and waits for READY=1 (30 s).
  std::unique_ptr<SwiftdProcess> StartServing(
      const std::string& socket, const std::string& log,
      const std::vector<std::string>& flags) {
    const std::string notify =
        absl::StrCat(scratch_.path(), "/notify", ++starts_);
    UniqueFd fd = testing::BindUnixSocket(notify, SOCK_DGRAM, false);
    timeval timeout = {30, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    auto swiftd = std::make_unique<SwiftdProcess>(socket, notify, log, flags);
    char buffer[512] = {};
    const ssize_t size = recv(fd.get(), buffer, sizeof(buffer) - 1, 0);
    EXPECT_TRUE(size > 0 && absl::StartsWith(buffer, "READY=1"))
        << "not ready: " << buffer << "\n"
        << ReadWholeFile(log);
    return swiftd;
  }

  // Outside every tmpfs: logs and notify sockets.
  TempDir scratch_;
  int starts_ = 0;
};

#define SKIP_UNLESS_MOUNTED(fs)                                          \
  if (!(fs).mounted()) {                                                 \
    GTEST_SKIP() << "cannot mount a tmpfs (needs root, outside Bazel's " \
                    "sandbox): "                                         \
                 << (fs).error();                                        \
  }

TEST_F(FaultDiskTest, SocketDirectoryWithoutSpaceStopsStartUpClearly) {
  Tmpfs run("size=1m,nr_inodes=16,mode=0755");
  SKIP_UNLESS_MOUNTED(run);
  const std::vector<std::string> fillers = UseUpInodes(run.path());
  ASSERT_FALSE(fillers.empty());
  const std::vector<std::string> before = Listing(run.path());
  const std::string socket = run.path() + "/swiftd.sock";
  const std::string log = scratch_.path() + "/full.log";

  const absl::Time start = absl::Now();
  EXPECT_EQ(RunSwiftdToItsEnd(socket, log), 1);
  const std::string text = ReadWholeFile(log);
  Observe(absl::StrCat(
      "swiftd's log ended in ", absl::FormatDuration((absl::Now() - start)),
      " with: ",
      text.substr(text.rfind("swiftd cannot start") == std::string::npos
                      ? 0
                      : text.rfind("swiftd cannot start"))));
  EXPECT_TRUE(absl::StrContains(text, "swiftd cannot start")) << text;
  EXPECT_TRUE(absl::StrContains(text, socket)) << text;
  EXPECT_TRUE(absl::StrContains(text, "No space left on device")) << text;
  EXPECT_EQ(Listing(run.path()), before) << "swiftd left files behind";

  // Space again: swiftd starts and serves.
  for (const std::string& filler : fillers) unlink(filler.c_str());
  auto swiftd =
      StartServing(socket, scratch_.path() + "/full2.log", {"--state_dir="});
  EXPECT_EQ(swiftd->StopWith(SIGTERM), 0);
}

// An unwritable /run: the socket's directory missing on a read-only file
// system (swiftd must create it), and present but read-only.
TEST_F(FaultDiskTest, ReadOnlySocketDirectoryStopsStartUpClearly) {
  for (const bool directory_exists : {false, true}) {
    SCOPED_TRACE(directory_exists ? "directory exists" : "directory missing");
    Tmpfs run("size=1m,mode=0755");
    SKIP_UNLESS_MOUNTED(run);
    const std::string directory = run.path() + "/swift";
    if (directory_exists) {
      ASSERT_EQ(mkdir(directory.c_str(), 0755), 0);
    }
    ASSERT_TRUE(run.Remount(MS_RDONLY)) << strerror(errno);
    const std::vector<std::string> before = Listing(directory);
    const std::string socket = directory + "/swiftd.sock";
    const std::string log =
        absl::StrCat(scratch_.path(), "/ro", directory_exists, ".log");

    EXPECT_EQ(RunSwiftdToItsEnd(socket, log), 1);
    const std::string text = ReadWholeFile(log);
    const size_t reason = text.find("swiftd cannot start");
    Observe(absl::StrCat(
        "swiftd's log: ",
        (reason == std::string::npos ? text : text.substr(reason))));
    EXPECT_NE(reason, std::string::npos) << text;
    EXPECT_TRUE(absl::StrContains(text, directory)) << text;
    EXPECT_TRUE(absl::StrContains(text, "Read-only file system")) << text;
    EXPECT_EQ(Listing(directory), before) << "swiftd left files behind";

    // Writable again: swiftd starts and serves.
    ASSERT_TRUE(run.Remount(0)) << strerror(errno);
    auto swiftd = StartServing(socket, log + ".2", {"--state_dir="});
    EXPECT_EQ(swiftd->StopWith(SIGTERM), 0);
  }
}

TEST_F(FaultDiskTest, FullStateDirectoryRefusesRegistrationsCleanly) {
  Tmpfs disk("size=256k,mode=0700");
  SKIP_UNLESS_MOUNTED(disk);
  const std::string state = disk.path() + "/state";
  ASSERT_EQ(mkdir(state.c_str(), 0700), 0);
  UseUpSpace(disk.path() + "/filler");
  // A "library" the stub worker serves (no directives: it gets ready).
  ASSERT_EQ(chmod(scratch_.path().c_str(), 0755), 0);
  const std::string library = scratch_.path() + "/f.so";
  { UniqueFd fd(open(library.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)); }
  const std::string socket = scratch_.path() + "/swiftd.sock";
  auto swiftd = StartServing(
      socket, scratch_.path() + "/state.log",
      {"--state_dir=" + state,
       "--worker_binary=" + testing::Absolute(RunfilePath(
                                "daemon/functions/testing/stub_worker"))});

  ClientOptions options;
  options.socket_path = socket;
  options.attach = false;
  auto client = ControlClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  v1::RegisterFunctionRequest request;
  request.set_name("f");
  request.set_library_path(library);
  auto refused = (*client)->RegisterFunction(request);
  Observe(absl::StrCat("register with the state directory full: ",
                       refused.status().ToString()));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted)
      << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), state))
      << refused.status();
  EXPECT_TRUE(
      absl::StrContains(refused.status().message(), "No space left on device"))
      << refused.status();
  EXPECT_TRUE(Listing(state).empty()) << "a partial state file was left";
  // Nor a worker: none listed, none running.
  auto workers = (*client)->ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  EXPECT_EQ(workers->workers_size(), 0);
  auto status = (*client)->GetStatus();
  ASSERT_TRUE(status.ok());
  const pid_t swiftd_pid = static_cast<pid_t>(status->pid());
  EXPECT_TRUE(Eventually([&] { return CountChildren(swiftd_pid) == 0; }))
      << "swiftd's children: " << CountChildren(swiftd_pid);

  // Space again: the registration is stored.
  unlink((disk.path() + "/filler").c_str());
  auto registered = (*client)->RegisterFunction(request);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(Listing(state), std::vector<std::string>{"fn-f.textproto"});
  client->reset();
  EXPECT_EQ(swiftd->StopWith(SIGTERM), 0);
}

// A full disk at start where the state directory is still to be made:
// SwiftdServer::Start()'s contract is to serve anyway (registrations are
// then kept in memory only) and to say so, naming the directory.
TEST_F(FaultDiskTest, StateDirectoryOnAFullDiskAtStartIsReported) {
  Tmpfs disk("size=1m,nr_inodes=16,mode=0700");
  SKIP_UNLESS_MOUNTED(disk);
  UseUpInodes(disk.path());
  const std::string state = disk.path() + "/state";
  const std::vector<std::string> before = Listing(disk.path());
  const std::string log = scratch_.path() + "/start.log";
  auto swiftd = StartServing(
      scratch_.path() + "/swiftd.sock", log,
      {"--state_dir=" + state,
       "--worker_binary=" + testing::Absolute(RunfilePath(
                                "daemon/functions/testing/stub_worker"))});
  const std::string text = ReadWholeFile(log);
  const size_t reason = text.find("cannot use the state directory");
  Observe(
      absl::StrCat("swiftd's log: ",
                   (reason == std::string::npos ? text : text.substr(reason))));
  EXPECT_NE(reason, std::string::npos) << text;
  EXPECT_TRUE(absl::StrContains(text, state)) << text;
  EXPECT_TRUE(absl::StrContains(text, "No space left on device")) << text;
  EXPECT_EQ(Listing(disk.path()), before) << "swiftd left files behind";
  EXPECT_EQ(swiftd->StopWith(SIGTERM), 0);
}

}  // namespace
}  // namespace swift
