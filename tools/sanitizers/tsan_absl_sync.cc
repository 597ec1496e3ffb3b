// ThreadSanitizer annotations for Debian's abseil synchronization library.
//
// Debian builds libabsl_synchronization without -fsanitize=thread, so
// ThreadSanitizer sees none of absl::Mutex's locking: its atomics and
// futex waits are uninstrumented. Every access guarded by an absl::Mutex
// would then be reported as a race. This file interposes the out-of-line
// members of absl::Mutex, absl::CondVar and absl::Notification (a
// definition in the executable wins over the shared library's, for calls
// from the library itself too, which go through its PLT), calls the
// library's own code (dlsym(RTLD_NEXT)) and tells ThreadSanitizer what it
// did with the __tsan_mutex_* annotations, as an instrumented abseil does
// itself. Accesses inside the library's code (conditions evaluated while
// it locks, waits or unlocks) are ignored, as abseil's own annotations do.
//
// Compiled to nothing unless the build is ThreadSanitizer's; linked into
// every binary of --config=tsan through //tools/sanitizers:defaults.
#if defined(__SANITIZE_THREAD__)
#define SWIFT_TSAN_ABSL 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SWIFT_TSAN_ABSL 1
#endif
#endif

#ifdef SWIFT_TSAN_ABSL

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#define SWIFT_STRINGIFY_INNER(x) #x
#define SWIFT_STRINGIFY(x) SWIFT_STRINGIFY_INNER(x)

namespace {

// The mangled name of an absl symbol: `prefix` is "_ZN" (or "_ZNK" for a
// const member), `rest` what follows the namespace (e.g. "5Mutex4LockEv").
std::string Mangled(const char* prefix, const char* rest) {
#if ABSL_OPTION_USE_INLINE_NAMESPACE
  const std::string inline_namespace =
      SWIFT_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return std::string(prefix) + "4absl" +
         std::to_string(inline_namespace.size()) + inline_namespace + rest;
#else
  return std::string(prefix) + "4absl" + rest;
#endif
}

// The shared library's definition, found once; aborts with the name when
// it is missing (an abseil whose symbols differ: update this file).
template <typename Function>
Function Real(const char* prefix, const char* rest) {
  const std::string name = Mangled(prefix, rest);
  void* symbol = dlsym(RTLD_NEXT, name.c_str());
  if (symbol == nullptr) {
    fprintf(stderr,
            "tools/sanitizers/tsan_absl_sync.cc: %s not found in abseil; "
            "update the interposed names for this abseil\n",
            name.c_str());
    abort();
  }
  return reinterpret_cast<Function>(symbol);
}

#define SWIFT_REAL(type, prefix, rest) \
  static const auto real = Real<type>(prefix, rest)

// The library calls some of these members itself, through its PLT, and
// reaches the executable's definitions when the executable exports them
// (it does for those other libraries, gRPC's, refer to): AwaitWithTimeout
// calls AwaitWithDeadline. Only the outermost call is annotated.
thread_local int depth = 0;
struct Outermost {
  Outermost() { ++depth; }
  ~Outermost() { --depth; }
};

constexpr unsigned kRead = __tsan_mutex_read_lock;
constexpr unsigned kTry = __tsan_mutex_try_lock;
constexpr unsigned kTryFailed = __tsan_mutex_try_lock_failed;

// The mutex is released for the wait and held again after it, with
// whatever the library ran in between (conditions) ignored.
template <typename Call>
auto Waiting(void* mu, unsigned flags, Call call) {
  __tsan_mutex_pre_unlock(mu, flags);
  auto result = call();
  __tsan_mutex_post_unlock(mu, flags);
  __tsan_mutex_pre_lock(mu, flags);
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

// The mutex is taken, with the library's own accesses ignored.
template <typename Call>
auto Locking(void* mu, unsigned flags, Call call) {
  __tsan_mutex_pre_lock(mu, flags);
  auto result = call();
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using Cond = const Condition&;

Mutex::~Mutex() {
  SWIFT_REAL(void (*)(Mutex*), "_ZN", "5MutexD2Ev");
  real(this);
  __tsan_mutex_destroy(this, 0);
}

void Mutex::Lock() {
  SWIFT_REAL(void (*)(Mutex*), "_ZN", "5Mutex4LockEv");
  if (depth > 0) {
    return real(this);
  }
  Outermost outermost;
  Locking(this, 0, [&] { return (real(this), 0); });
}

void Mutex::ReaderLock() {
  SWIFT_REAL(void (*)(Mutex*), "_ZN", "5Mutex10ReaderLockEv");
  if (depth > 0) {
    return real(this);
  }
  Outermost outermost;
  Locking(this, kRead, [&] { return (real(this), 0); });
}

bool Mutex::TryLock() {
  SWIFT_REAL(bool (*)(Mutex*), "_ZN", "5Mutex7TryLockEv");
  if (depth > 0) {
    return real(this);
  }
  Outermost outermost;
  __tsan_mutex_pre_lock(this, kTry);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this, kTry | (locked ? 0 : kTryFailed), 0);
  return locked;
}

bool Mutex::ReaderTryLock() {
  SWIFT_REAL(bool (*)(Mutex*), "_ZN", "5Mutex13ReaderTryLockEv");
  if (depth > 0) {
    return real(this);
  }
  Outermost outermost;
  __tsan_mutex_pre_lock(this, kRead | kTry);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this, kRead | kTry | (locked ? 0 : kTryFailed), 0);
  return locked;
}

void Mutex::Unlock() {
  SWIFT_REAL(void (*)(Mutex*), "_ZN", "5Mutex6UnlockEv");
  if (depth > 0) {
    return real(this);
  }
  Outermost outermost;
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

void Mutex::ReaderUnlock() {
  SWIFT_REAL(void (*)(Mutex*), "_ZN", "5Mutex12ReaderUnlockEv");
  if (depth > 0) {
    return real(this);
  }
  Outermost outermost;
  __tsan_mutex_pre_unlock(this, kRead);
  real(this);
  __tsan_mutex_post_unlock(this, kRead);
}

// Swift never waits holding a reader lock; Await and the CondVar waits
// are annotated as exclusive holds.
void Mutex::Await(Cond cond) {
  SWIFT_REAL(void (*)(Mutex*, Cond), "_ZN", "5Mutex5AwaitERKNS0_9ConditionE");
  if (depth > 0) {
    return real(this, cond);
  }
  Outermost outermost;
  Waiting(this, 0, [&] { return (real(this, cond), 0); });
}

bool Mutex::AwaitWithTimeout(Cond cond, Duration timeout) {
  SWIFT_REAL(bool (*)(Mutex*, Cond, Duration), "_ZN",
             "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  if (depth > 0) {
    return real(this, cond, timeout);
  }
  Outermost outermost;
  return Waiting(this, 0, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(Cond cond, Time deadline) {
  SWIFT_REAL(bool (*)(Mutex*, Cond, Time), "_ZN",
             "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  if (depth > 0) {
    return real(this, cond, deadline);
  }
  Outermost outermost;
  return Waiting(this, 0, [&] { return real(this, cond, deadline); });
}

void Mutex::LockWhen(Cond cond) {
  SWIFT_REAL(void (*)(Mutex*, Cond), "_ZN",
             "5Mutex8LockWhenERKNS0_9ConditionE");
  if (depth > 0) {
    return real(this, cond);
  }
  Outermost outermost;
  Locking(this, 0, [&] { return (real(this, cond), 0); });
}

void Mutex::ReaderLockWhen(Cond cond) {
  SWIFT_REAL(void (*)(Mutex*, Cond), "_ZN",
             "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  if (depth > 0) {
    return real(this, cond);
  }
  Outermost outermost;
  Locking(this, kRead, [&] { return (real(this, cond), 0); });
}

bool Mutex::LockWhenWithTimeout(Cond cond, Duration timeout) {
  SWIFT_REAL(bool (*)(Mutex*, Cond, Duration), "_ZN",
             "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  if (depth > 0) {
    return real(this, cond, timeout);
  }
  Outermost outermost;
  return Locking(this, 0, [&] { return real(this, cond, timeout); });
}

bool Mutex::LockWhenWithDeadline(Cond cond, Time deadline) {
  SWIFT_REAL(bool (*)(Mutex*, Cond, Time), "_ZN",
             "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  if (depth > 0) {
    return real(this, cond, deadline);
  }
  Outermost outermost;
  return Locking(this, 0, [&] { return real(this, cond, deadline); });
}

bool Mutex::ReaderLockWhenWithTimeout(Cond cond, Duration timeout) {
  SWIFT_REAL(
      bool (*)(Mutex*, Cond, Duration), "_ZN",
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  if (depth > 0) {
    return real(this, cond, timeout);
  }
  Outermost outermost;
  return Locking(this, kRead, [&] { return real(this, cond, timeout); });
}

bool Mutex::ReaderLockWhenWithDeadline(Cond cond, Time deadline) {
  SWIFT_REAL(bool (*)(Mutex*, Cond, Time), "_ZN",
             "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  if (depth > 0) {
    return real(this, cond, deadline);
  }
  Outermost outermost;
  return Locking(this, kRead, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  SWIFT_REAL(void (*)(CondVar*, Mutex*), "_ZN", "7CondVar4WaitEPNS0_5MutexE");
  if (depth > 0) {
    return real(this, mu);
  }
  Outermost outermost;
  Waiting(mu, 0, [&] { return (real(this, mu), 0); });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  SWIFT_REAL(bool (*)(CondVar*, Mutex*, Duration), "_ZN",
             "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  if (depth > 0) {
    return real(this, mu, timeout);
  }
  Outermost outermost;
  return Waiting(mu, 0, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  SWIFT_REAL(bool (*)(CondVar*, Mutex*, Time), "_ZN",
             "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  if (depth > 0) {
    return real(this, mu, deadline);
  }
  Outermost outermost;
  return Waiting(mu, 0, [&] { return real(this, mu, deadline); });
}

// Notification's own locking happens inside the library (its calls to
// its own Mutex do not come here: the executable exports only what other
// libraries refer to), so Notify() and the waits are annotated on the
// flag that follows the Mutex in Notification: a release before the
// library sets it, an acquire once a wait saw it. HasBeenNotified() is
// inline, an acquire load of that flag: it then sees Notify()'s writes
// too.
static_assert(sizeof(Notification) == sizeof(Mutex) + sizeof(std::atomic<bool>) ||
                  sizeof(Notification) == 2 * sizeof(Mutex),
              "Notification's layout changed: check the flag's offset");

static void* Flag(const Notification* notification) {
  return const_cast<char*>(reinterpret_cast<const char*>(notification)) +
         sizeof(Mutex);
}

void Notification::Notify() {
  SWIFT_REAL(void (*)(Notification*), "_ZN", "12Notification6NotifyEv");
  if (depth > 0) {
    return real(this);
  }
  Outermost outermost;
  __tsan_release(Flag(this));
  real(this);
}

void Notification::WaitForNotification() const {
  SWIFT_REAL(void (*)(const Notification*), "_ZNK",
             "12Notification19WaitForNotificationEv");
  if (depth > 0) {
    return real(this);
  }
  Outermost outermost;
  real(this);
  __tsan_acquire(Flag(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  SWIFT_REAL(bool (*)(const Notification*, Duration), "_ZNK",
             "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  if (depth > 0) {
    return real(this, timeout);
  }
  Outermost outermost;
  const bool notified = real(this, timeout);
  if (notified) {
    __tsan_acquire(Flag(this));
  }
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  SWIFT_REAL(bool (*)(const Notification*, Time), "_ZNK",
             "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  if (depth > 0) {
    return real(this, deadline);
  }
  Outermost outermost;
  const bool notified = real(this, deadline);
  if (notified) {
    __tsan_acquire(Flag(this));
  }
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl

#endif  // SWIFT_TSAN_ABSL
