// FutexWait/FutexWake; see futex.h.
#include "client/wait/futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace swift::wait_internal {

// std::atomic<uint32_t> is a plain 32-bit word on Linux, which is what the
// futex system call reads.
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected,
               absl::Duration timeout) {
  timespec relative;
  timespec* limit = nullptr;
  if (timeout != absl::InfiniteDuration()) {
    relative = absl::ToTimespec(
        timeout < absl::ZeroDuration() ? absl::ZeroDuration() : timeout);
    limit = &relative;
  }
  // Private: the word is never shared across processes (a forked child
  // has its own copy and its own waiters).
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE,
          expected, limit, nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1,
          nullptr, nullptr, 0);
}

}  // namespace swift::wait_internal
