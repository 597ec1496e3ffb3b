// IdlePool<T>: connections kept open between calls, bounded and aged.
//
// A client that makes many short calls (libswift to swiftd, swiftd to a
// peer swiftd, libswift to a function's worker) keeps the connections it
// is not using in an IdlePool and takes one for the next call; a call that
// finds none opens a new connection and gives it back when done. The pool
// keeps at most `max_idle` of them (a burst's extra connections are closed
// when they come back, not kept at the peak for ever) and closes those
// idle for longer than `max_idle_time` (the far end may have dropped
// them). T is any movable owner that closes on destruction (UniqueFd,
// SeqpacketSocket, std::unique_ptr<...>). Thread-safe.
#ifndef SWIFT_COMMON_IDLE_POOL_H_
#define SWIFT_COMMON_IDLE_POOL_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace swift {

template <typename T>
class IdlePool {
 public:
  struct Options {
    size_t max_idle = 8;
    absl::Duration max_idle_time = absl::Seconds(60);
  };

  IdlePool() : IdlePool(Options()) {}
  explicit IdlePool(Options options) : options_(options) {}
  IdlePool(const IdlePool&) = delete;
  IdlePool& operator=(const IdlePool&) = delete;

  // Take()
  //
  // The most recently returned item that has not been idle too long, or
  // nullopt. Items found too old are closed (outside the lock).
  std::optional<T> Take(absl::Time now = absl::Now()) {
    std::deque<Entry> expired;
    std::optional<T> item;
    {
      absl::MutexLock lock(&mu_);
      ExpireLocked(now, &expired);
      if (!idle_.empty()) {
        item.emplace(std::move(idle_.back().item));
        idle_.pop_back();
      }
    }
    return item;
  }

  // Give()
  //
  // Keeps `item` for a later Take(); when the pool is full the item idle
  // the longest is closed to make room.
  void Give(T item, absl::Time now = absl::Now()) {
    std::deque<Entry> dropped;
    absl::MutexLock lock(&mu_);
    ExpireLocked(now, &dropped);
    if (options_.max_idle == 0) return;  // `item` closes on return.
    if (idle_.size() >= options_.max_idle) {
      dropped.push_back(std::move(idle_.front()));
      idle_.pop_front();
    }
    idle_.push_back(Entry{std::move(item), now});
  }

  // Closes every idle item.
  void Clear() {
    std::deque<Entry> dropped;
    absl::MutexLock lock(&mu_);
    dropped.swap(idle_);
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return idle_.size();
  }

 private:
  struct Entry {
    T item;
    absl::Time since;
  };

  // Moves the entries idle too long into `expired` (oldest are in front).
  void ExpireLocked(absl::Time now, std::deque<Entry>* expired)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!idle_.empty() &&
           now - idle_.front().since > options_.max_idle_time) {
      expired->push_back(std::move(idle_.front()));
      idle_.pop_front();
    }
  }

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<Entry> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_COMMON_IDLE_POOL_H_
