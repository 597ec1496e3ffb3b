// Dispatcher implementation; see dispatcher.h.
#include "client/wait/dispatcher.h"

#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/wait/futex.h"
#include "client/wait/poll_cq.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace swift::wait_internal {
namespace {

// Completions taken from one CQ per poll.
constexpr int kPollBatch = 16;
// Back-off after the last completion: poll with a pause for kSpinFor, then
// yield the core after each empty pass until kYieldFor, then sleep. The
// yield lets the application's threads on this core run (FastWake gives
// the dispatcher a core of its own; on a few cores shared with many
// threads, a dispatcher that never yields would starve them).
constexpr int64_t kSpinForNs = 20 * 1000;
constexpr int64_t kYieldForNs = 2 * 1000 * 1000;

int64_t MonotonicNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::Start(int cpu) {
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) {
    return ErrnoStatus(errno, "epoll_create1 for a wait dispatcher");
  }
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return ErrnoStatus(errno, "eventfd for a wait dispatcher");
  }
  epoll_event event = {};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // nullptr: the eventfd.
  if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &event) != 0) {
    return ErrnoStatus(errno, "epoll_ctl(ADD eventfd) for a wait dispatcher");
  }
  return std::unique_ptr<Dispatcher>(
      new Dispatcher(cpu, std::move(epoll), std::move(wake)));
}

Dispatcher::Dispatcher(int cpu, UniqueFd epoll, UniqueFd wake)
    : cpu_(cpu),
      pid_(getpid()),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)) {
  thread_ = std::thread([this] {
    NameThisThread(absl::StrCat("swift-wake-", cpu_));
    Run();
  });
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu_, &set);
  if (int rc =
          pthread_setaffinity_np(thread_.native_handle(), sizeof(set), &set);
      rc != 0) {
    SWIFT_LOG_ONCE(Warning, "wait dispatcher for cpu ", cpu_,
                   " runs unpinned: pthread_setaffinity_np: ", strerror(rc));
  }
}

Dispatcher::~Dispatcher() {
  stop_.store(true);
  Poke();
  thread_.join();
  for (const std::shared_ptr<DispatchTarget>& target : targets_) {
    AckEvents(*target);
  }
}

absl::Status Dispatcher::Add(std::shared_ptr<DispatchTarget> target) {
  epoll_event event = {};
  event.events = EPOLLIN;
  event.data.ptr = target.get();
  // Done here, not by the thread, so the caller hears of a failure. The
  // thread may see the channel readable before it polls the CQ: the
  // target is alive in adds_ by then.
  absl::MutexLock lock(&mu_);
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, target->cq->channel->fd, &event) !=
      0) {
    return ErrnoStatus(errno, absl::StrFormat("epoll_ctl(ADD completion "
                                              "channel fd %d)",
                                              target->cq->channel->fd));
  }
  adds_.push_back(std::move(target));
  changes_pending_.store(true, std::memory_order_release);
  Poke();
  return absl::OkStatus();
}

void Dispatcher::Remove(DispatchTarget* target) {
  absl::MutexLock lock(&mu_);
  removes_.push_back(target);
  const uint64_t ticket = ++requested_;
  changes_pending_.store(true, std::memory_order_release);
  Poke();
  auto carried_out = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return applied_ >= ticket;
  };
  mu_.Await(absl::Condition(&carried_out));
}

void Dispatcher::Poke() {
  const uint64_t one = 1;
  // EAGAIN (the counter is full) still leaves it readable: nothing lost.
  (void)!write(wake_.get(), &one, sizeof(one));
}

void Dispatcher::ApplyChanges() {
  absl::MutexLock lock(&mu_);
  for (std::shared_ptr<DispatchTarget>& target : adds_) {
    targets_.push_back(std::move(target));
  }
  adds_.clear();
  for (DispatchTarget* target : removes_) {
    auto it = std::find_if(
        targets_.begin(), targets_.end(),
        [target](const auto& held) { return held.get() == target; });
    if (it == targets_.end()) {
      continue;
    }
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, target->cq->channel->fd, nullptr);
    AckEvents(*target);
    targets_.erase(it);
  }
  removes_.clear();
  applied_ = requested_;
  changes_pending_.store(false, std::memory_order_relaxed);
}

void Dispatcher::Run() {
  int64_t last_completion = MonotonicNs();
  while (!stop_.load(std::memory_order_relaxed)) {
    if (changes_pending_.load(std::memory_order_acquire)) {
      ApplyChanges();
    }
    passes_.fetch_add(1, std::memory_order_relaxed);
    int waiting = 0;
    if (PollAll(&waiting) > 0) {
      last_completion = MonotonicNs();
      // The woken owners likely share this core: let them run now.
      sched_yield();
      continue;
    }
    const int64_t idle = MonotonicNs() - last_completion;
    // With no owner asleep there is nothing to poll for: an owner that
    // goes to sleep pokes the dispatcher awake (the owners spin first, so
    // a dispatcher that kept polling here would burn a core for nothing).
    const int64_t sleep_after = waiting == 0 ? kSpinForNs : kYieldForNs;
    if (targets_.empty() || idle >= sleep_after) {
      Sleep();
      last_completion = MonotonicNs();
    } else if (idle >= kSpinForNs) {
      sched_yield();
    } else {
      CpuRelax();
    }
  }
}

int Dispatcher::PollAll(int* waiting) {
  int moved = 0;
  for (const std::shared_ptr<DispatchTarget>& target : targets_) {
    if (!target->waiting.load(std::memory_order_acquire) ||
        target->failed.load(std::memory_order_relaxed)) {
      continue;
    }
    if (waiting != nullptr) {
      ++*waiting;
    }
    const int room = std::min(target->ring.free_slots(), kPollBatch);
    if (room == 0 || !target->TryLockPoll()) {
      continue;  // The owner polls it itself right now.
    }
    ibv_wc batch[kPollBatch];
    absl::StatusOr<int> count = PollCq(target->cq, batch, room);
    if (count.ok() && *count > 0) {
      target->ring.Push(batch, *count);
      moved += *count;
    }
    target->UnlockPoll();
    if (!count.ok()) {
      target->Fail(count.status());
    } else if (*count == 0) {
      continue;
    }
    // Pairs with the owner's fence between announcing its sleep and its
    // last look at the ring: one of the two sees the other.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (target->owner_sleeping.exchange(0) == 1) {
      FutexWake(&target->owner_sleeping);
    }
  }
  return moved;
}

void Dispatcher::Sleep() {
  // Announced before the last look at the waiting flags: an owner that
  // starts waiting after that look sees it and pokes the eventfd.
  asleep_.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool any_full = false;
  for (const std::shared_ptr<DispatchTarget>& target : targets_) {
    if (!target->waiting.load(std::memory_order_acquire) ||
        target->failed.load(std::memory_order_relaxed)) {
      continue;
    }
    // Under the poll lock: an owner that stopped waiting a moment ago may
    // be polling its CQ again.
    if (!target->armed && target->TryLockPoll()) {
      absl::Status armed = ArmCq(target->cq);
      target->UnlockPoll();
      if (!armed.ok()) {
        target->Fail(armed);
        continue;
      }
      target->armed = true;
    }
    any_full = any_full || target->ring.free_slots() == 0;
  }
  // A completion that arrived before its CQ was armed raises no event.
  if (PollAll() > 0 || changes_pending_.load(std::memory_order_acquire)) {
    asleep_.store(false, std::memory_order_relaxed);
    return;
  }
  sleeps_.fetch_add(1, std::memory_order_relaxed);
  epoll_event events[64];
  // A full ring cannot take the CQ's completions, which then raise no new
  // event: look again soon rather than sleep on it.
  const int ready = epoll_wait(epoll_.get(), events, 64, any_full ? 1 : -1);
  asleep_.store(false, std::memory_order_relaxed);
  for (int i = 0; i < ready; ++i) {
    if (events[i].data.ptr == nullptr) {
      uint64_t count;
      (void)!read(wake_.get(), &count, sizeof(count));
      continue;
    }
    ReadEvents(*static_cast<DispatchTarget*>(events[i].data.ptr));
  }
}

void Dispatcher::ReadEvents(DispatchTarget& target) {
  while (true) {
    ibv_cq* event_cq = nullptr;
    void* event_context = nullptr;
    if (ibv_get_cq_event(target.cq->channel, &event_cq, &event_context) != 0) {
      return;  // EAGAIN: the channel's fd is non-blocking.
    }
    if (event_cq != target.cq) {
      // A CQ without a waiter shares the channel: ack its event at once.
      ibv_ack_cq_events(event_cq, 1);
      continue;
    }
    target.armed = false;
    WaitCounters::Add(target.counters->events);
    if (++target.unacked >= static_cast<unsigned int>(target.ack_batch)) {
      AckEvents(target);
    }
  }
}

void Dispatcher::AckEvents(DispatchTarget& target) {
  if (target.unacked > 0) {
    ibv_ack_cq_events(target.cq, target.unacked);
    WaitCounters::Add(target.counters->ack_calls);
    target.unacked = 0;
  }
}

}  // namespace swift::wait_internal
