// CountChildren(): the child processes of this process, live and zombie,
// for tests that every child swiftd spawns is reaped.
#ifndef SWIFT_DAEMON_FUNCTIONS_TESTING_CHILD_COUNT_H_
#define SWIFT_DAEMON_FUNCTIONS_TESTING_CHILD_COUNT_H_

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace swift::testing {

struct ChildCount {
  // Running (or stopped) children, and exited ones nobody has reaped.
  int live = 0;
  int zombies = 0;
};

// CountChildren()
//
// Reads /proc/<pid>/stat of every process: its state and parent follow the
// last ')' (the command name may hold anything).
inline ChildCount CountChildren() {
  ChildCount count;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return count;
  }
  while (const dirent* entry = readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) {
      continue;
    }
    std::ifstream file(std::string("/proc/") + entry->d_name + "/stat");
    std::stringstream contents;
    contents << file.rdbuf();
    const std::string stat = contents.str();
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) {
      continue;
    }
    std::istringstream fields(stat.substr(paren + 1));
    char state = 0;
    int parent = 0;
    fields >> state >> parent;
    if (parent == getpid()) {
      ++(state == 'Z' ? count.zombies : count.live);
    }
  }
  closedir(proc);
  return count;
}

// AwaitNoChildren()
//
// Polls CountChildren() for up to `timeout` until this process has no
// child at all; returns the last count.
inline ChildCount AwaitNoChildren(absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  ChildCount count = CountChildren();
  while ((count.live != 0 || count.zombies != 0) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
    count = CountChildren();
  }
  return count;
}

}  // namespace swift::testing

#endif  // SWIFT_DAEMON_FUNCTIONS_TESTING_CHILD_COUNT_H_
