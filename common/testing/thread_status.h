// ThreadStatusFields(): one field of each thread's /proc status in a
// process (its name, the CPUs it may run on), for tests of what threads a
// process runs and where.
#ifndef SWIFT_COMMON_TESTING_THREAD_STATUS_H_
#define SWIFT_COMMON_TESTING_THREAD_STATUS_H_

#include <dirent.h>
#include <sys/types.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace swift::testing {

// The field after `prefix` in each live thread's /proc/PID/task/TID/status
// ("Name:\t": its name; "Cpus_allowed_list:\t": the CPUs it may run on,
// "0-1"), one entry per thread that has it.
inline std::vector<std::string> ThreadStatusFields(pid_t pid,
                                                   absl::string_view prefix) {
  std::vector<std::string> fields;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return fields;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream status(tasks + "/" + entry->d_name + "/status");
    for (std::string line; std::getline(status, line);) {
      absl::string_view field = line;
      if (absl::ConsumePrefix(&field, prefix)) {
        fields.emplace_back(field);
      }
    }
  }
  closedir(dir);
  return fields;
}

}  // namespace swift::testing

#endif  // SWIFT_COMMON_TESTING_THREAD_STATUS_H_
