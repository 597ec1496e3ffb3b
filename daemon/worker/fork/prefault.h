// Prefault: takes a freshly forked process's page faults ahead of time.
//
// After fork() a child shares its parent's private pages copy-on-write and
// has no page-table entries at all for file-backed code (the kernel copies
// none for mappings without private pages). The first run of the child's
// code then takes one fault per page it writes (a copy) and per code page
// it executes; under emulation each costs tens of microseconds, and an
// invocation's first run in a fresh child took ~10x longer than later runs.
// A spare instance (forked before its request arrives) calls
// PrefaultForkedChild() while it waits, so that its invocation runs at the
// speed of a warm one.
//
// Best effort by design: a mapping the kernel will not populate (device
// memory, guard pages) is skipped. Needs Linux 5.14 (MADV_POPULATE_*);
// older kernels report kUnimplemented and the child just faults lazily.
#ifndef SWIFT_DAEMON_WORKER_FORK_PREFAULT_H_
#define SWIFT_DAEMON_WORKER_FORK_PREFAULT_H_

#include <sys/types.h>

#include <cstddef>

#include "absl/status/statusor.h"

namespace swift {

struct PrefaultStats {
  // Private pages shared with the parent, now copied.
  size_t copied_pages = 0;
  // Code and read-only file pages the parent had mapped, now mapped here.
  size_t mapped_pages = 0;
  // Mappings larger than kMaxPrefaultMapping, left to fault lazily.
  size_t skipped_mappings = 0;
};

// Mappings above this size are not walked: they are address-space
// reservations (a sanitizer's shadow memory, allocator arenas) that are
// mostly unpopulated, and walking a mapping reads 8 bytes of pagemap per
// page whether present or not (ASan's 15 TiB shadow: 30 GiB of reads, a
// spare instance that never became ready).
inline constexpr size_t kMaxPrefaultMapping = size_t{4} << 30;

// PrefaultForkedChild()
//
// In a child of `parent`: copies now every private writable page it still
// shares with its parent, and maps every file-backed read-only or
// executable page that `parent` has mapped (skipped when `parent`'s
// pagemap is closed to this process), in mappings of at most
// kMaxPrefaultMapping. Errors: the errno of reading our own
// /proc maps or pagemap, kUnimplemented when the kernel lacks
// MADV_POPULATE_*.
absl::StatusOr<PrefaultStats> PrefaultForkedChild(pid_t parent);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_FORK_PREFAULT_H_
