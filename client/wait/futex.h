// Futex wait and wake on a 32-bit atomic word: how a dispatcher wakes
// exactly one sleeping owner thread without an fd or the VFS.
#ifndef SWIFT_CLIENT_WAIT_FUTEX_H_
#define SWIFT_CLIENT_WAIT_FUTEX_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace swift::wait_internal {

// Sleeps while `*word == expected`, until FutexWake() on the word, a signal
// or `timeout` (InfiniteDuration(): no limit). Returns at once when the word
// already differs. Spurious returns happen: callers re-check their state.
void FutexWait(std::atomic<uint32_t>* word, uint32_t expected,
               absl::Duration timeout);

// Wakes one thread sleeping in FutexWait() on `word`.
void FutexWake(std::atomic<uint32_t>* word);

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_FUTEX_H_
