// ThreadGroup: threads started one at a time and joined all together,
// including those started while the group is being joined.
//
// For owners whose threads end on a condition of the owner's own
// (FunctionRestorer's restores): the owner makes its
// threads return, then JoinAll() (or the destructor) waits for them.
// Thread-safe.
#ifndef SWIFT_DAEMON_FUNCTIONS_THREAD_GROUP_H_
#define SWIFT_DAEMON_FUNCTIONS_THREAD_GROUP_H_

#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace swift {

class ThreadGroup final {
 public:
  ThreadGroup() = default;
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;
  // JoinAll().
  ~ThreadGroup() { JoinAll(); }

  // Runs `body` on a new thread of the group.
  void Start(std::function<void()> body) ABSL_LOCKS_EXCLUDED(mu_);

  // Threads started and not joined yet.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  // JoinAll()
  //
  // Joins every thread of the group, including those Start() adds
  // meanwhile, until none is left. Blocks until they return.
  void JoinAll() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_THREAD_GROUP_H_
