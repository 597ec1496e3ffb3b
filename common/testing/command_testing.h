// Test helpers for running programs: a private temporary directory, a
// command run with its stdout and stderr captured, and the paths of a
// test's runfiles. Depend on nothing of Swift, so that tests in any layer
// (client/, daemon/, tests/) use them.
#ifndef SWIFT_COMMON_TESTING_COMMAND_TESTING_H_
#define SWIFT_COMMON_TESTING_COMMAND_TESTING_H_

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace swift::testing {

// A fresh directory under /tmp: Bazel's TEST_TMPDIR is longer than a
// sockaddr_un holds. Removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/swift-test-XXXXXX";
    path_ = mkdtemp(pattern) != nullptr ? pattern : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::string command = "rm -rf '" + path_ + "'";
      (void)std::system(command.c_str());
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// Runs `command` with /bin/sh, capturing stdout and stderr separately.
inline CommandResult RunCommand(const std::string& command) {
  TempDir dir;
  const std::string out = dir.path() + "/out";
  const std::string err = dir.path() + "/err";
  const int status = std::system((command + " >" + out + " 2>" + err).c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadWholeFile(out);
  result.err = ReadWholeFile(err);
  return result;
}

// The path of a binary in this test's runfiles, e.g. "tools/swiftctl/swiftctl".
inline std::string RunfilePath(const std::string& workspace_relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/" +
         (workspace != nullptr ? workspace : "swift") + "/" +
         workspace_relative;
}

// `path` made absolute against the working directory (runfiles paths are
// relative when TEST_SRCDIR is).
inline std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') {
    return path;
  }
  char cwd[4096];
  return std::string(getcwd(cwd, sizeof(cwd))) + "/" + path;
}

// A copy of runfile `workspace_relative` in `directory` that any user may
// run (Bazel's output tree is closed to other users); its path, or "" when
// the copy failed.
inline std::string CopyRunfileForAnyone(const std::string& workspace_relative,
                                        const std::string& directory) {
  const std::string name =
      workspace_relative.substr(workspace_relative.rfind('/') + 1);
  const std::string copy = directory + "/" + name;
  const CommandResult copied =
      RunCommand("cp " + RunfilePath(workspace_relative) + " " + copy +
                 " && chmod 0755 " + copy);
  return copied.exit_code == 0 ? copy : std::string();
}

// The command prefix that runs the rest of a shell command as user and
// group `id` with no supplementary groups (util-linux's setpriv).
inline std::string AsUser(unsigned id) {
  const std::string ids = std::to_string(id);
  return "setpriv --reuid=" + ids + " --regid=" + ids + " --clear-groups ";
}

}  // namespace swift::testing

#endif  // SWIFT_COMMON_TESTING_COMMAND_TESTING_H_
