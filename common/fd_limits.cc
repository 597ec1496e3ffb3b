// fd_limits implementation; see fd_limits.h.
#include "common/fd_limits.h"

#include <dirent.h>
#include <sys/resource.h>

#include <cerrno>

#include "common/errno_status.h"

namespace swift {

absl::StatusOr<uint64_t> RaiseFdSoftLimit() {
  rlimit limit = {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return ErrnoStatus(errno, "getrlimit(RLIMIT_NOFILE)");
  }
  if (limit.rlim_cur != limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return ErrnoStatus(errno, "setrlimit(RLIMIT_NOFILE)");
    }
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

int64_t FreeFds() {
  rlimit limit = {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 0;
  }
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) {
    return 0;
  }
  int64_t open_fds = 0;
  while (const dirent* entry = readdir(directory)) {
    if (entry->d_name[0] != '.') {
      ++open_fds;
    }
  }
  closedir(directory);
  --open_fds;  // The directory's own descriptor, closed now.
  if (limit.rlim_cur == RLIM_INFINITY) {
    return INT64_MAX;
  }
  return static_cast<int64_t>(limit.rlim_cur) - open_fds;
}

}  // namespace swift
