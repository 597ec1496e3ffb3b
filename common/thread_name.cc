// Thread names; see thread_name.h.
#include "common/thread_name.h"

#include <pthread.h>

#include <string>

namespace swift {

// The kernel's TASK_COMM_LEN (16) with the terminating NUL.
constexpr size_t kMaxThreadName = 15;

void NameThisThread(absl::string_view name) {
  const std::string cut(name.substr(0, kMaxThreadName));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

std::string ThisThreadName() {
  char name[kMaxThreadName + 1] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0) {
    return "";
  }
  return name;
}

}  // namespace swift
