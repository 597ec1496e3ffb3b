// CompletionRing: completions a dispatcher took from a CQ, waiting for the
// CQ's owner. One producer (the dispatcher thread) and one consumer (the
// owner) at a time, no lock: each side writes only its own index.
//
// Sized to hold at least as many completions as the CQ, so that the ring
// always has room for what the CQ holds: an application that keeps no more
// work requests outstanding than its CQ has entries (as it must, or the CQ
// overruns) counts a completion still in the ring as outstanding.
#ifndef SWIFT_CLIENT_WAIT_COMPLETION_RING_H_
#define SWIFT_CLIENT_WAIT_COMPLETION_RING_H_

#include <infiniband/verbs.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace swift::wait_internal {

class CompletionRing {
 public:
  // Room for at least `min_capacity` (>= 1) completions.
  explicit CompletionRing(int min_capacity);

  CompletionRing(const CompletionRing&) = delete;
  CompletionRing& operator=(const CompletionRing&) = delete;

  // Producer: free slots right now (more may free up concurrently).
  int free_slots() const;

  // Producer: appends `count` completions; the caller asked free_slots()
  // first, so they fit.
  void Push(const ibv_wc* wcs, int count);

  // Consumer: moves up to `max_entries` completions into `out`, oldest
  // first; returns how many.
  int Pop(ibv_wc* out, int max_entries);

  // Either side: whether the ring holds nothing.
  bool empty() const;

  int capacity() const { return static_cast<int>(slots_.size()); }

 private:
  std::vector<ibv_wc> slots_;
  const uint64_t mask_;
  // Completions pushed (producer's) and popped (consumer's), ever; their
  // difference is the fill. Each on its own cache line: the two sides
  // write them from different cores.
  alignas(64) std::atomic<uint64_t> pushed_{0};
  alignas(64) std::atomic<uint64_t> popped_{0};
};

}  // namespace swift::wait_internal

#endif  // SWIFT_CLIENT_WAIT_COMPLETION_RING_H_
