// The change page: one shared memory page per tenant in which swiftd counts
// changes to that tenant's brokered connections (one more each time swiftd
// finds one ended or suspect, or ends one its client did not close), so
// that a client can tell without a call
// that nothing changed since it last checked (issue 12: a pre-connected
// pair is then handed out with no round trip to swiftd).
//
// swiftd maps the page read-write and hands clients a read-only fd of it
// (fast path `watch_changes`). The layout is this file's contract between
// the two processes: the magic, then the count, both 64-bit, the count
// written with release and read with acquire semantics. The count only
// grows while swiftd runs; a restarted swiftd starts a new page.
#ifndef SWIFT_COMMON_CHANGE_PAGE_H_
#define SWIFT_COMMON_CHANGE_PAGE_H_

#include <cstddef>
#include <cstdint>

namespace swift {

struct ChangePage {
  static constexpr uint64_t kMagic = 0x5357494654434750;  // "SWIFTCGP"
  static constexpr size_t kBytes = 4096;

  uint64_t magic;
  uint64_t generation;
};

inline uint64_t LoadChangeGeneration(const ChangePage& page) {
  return __atomic_load_n(&page.generation, __ATOMIC_ACQUIRE);
}

inline void BumpChangeGeneration(ChangePage& page) {
  __atomic_add_fetch(&page.generation, 1, __ATOMIC_RELEASE);
}

}  // namespace swift

#endif  // SWIFT_COMMON_CHANGE_PAGE_H_
