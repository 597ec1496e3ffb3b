// CountChildren(), CountFds(); see fault_processes.h.
#include "tests/fault_processes.h"

#include <dirent.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/test_swiftd.h"

namespace swift::testing {

int CountChildren(pid_t pid) {
  int children = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return -1;
  }
  while (const dirent* entry = readdir(proc)) {
    const std::string line =
        ReadWholeFile(absl::StrCat("/proc/", entry->d_name, "/stat"));
    // pid (comm) state ppid ...
    const size_t close = line.rfind(')');
    int ppid = 0;
    char state = 0;
    if (close != std::string::npos &&
        sscanf(line.c_str() + close + 2, "%c %d", &state, &ppid) == 2 &&
        ppid == pid) {
      ++children;
    }
  }
  closedir(proc);
  return children;
}

int CountFds(pid_t pid) {
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) {
    return -1;
  }
  int fds = 0;
  while (const dirent* entry = readdir(dir)) {
    fds += entry->d_name[0] != '.' ? 1 : 0;
  }
  closedir(dir);
  return fds;
}

}  // namespace swift::testing
