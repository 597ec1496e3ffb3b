// ThreadGroup implementation; see thread_group.h.
#include "daemon/functions/thread_group.h"

#include <utility>

namespace swift {

void ThreadGroup::Start(std::function<void()> body) {
  absl::MutexLock lock(&mu_);
  threads_.emplace_back(std::move(body));
}

size_t ThreadGroup::size() const {
  absl::MutexLock lock(&mu_);
  return threads_.size();
}

void ThreadGroup::JoinAll() {
  while (true) {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      threads.swap(threads_);
    }
    if (threads.empty()) {
      return;
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
  }
}

}  // namespace swift
