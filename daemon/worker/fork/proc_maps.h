// ProcMaps: the memory mappings of a process as /proc/PID/maps lists them,
// and the question fork mode asks of them: is a byte range entirely
// MAP_SHARED?
//
// Why it matters (ARCHITECTURE.md, "What can be shared"): after fork() a child's
// copy of *private* memory (heap, MAP_PRIVATE, anonymous) is a snapshot. The
// kernel (>= 5.13) copies pinned pages at fork, so an MR over private memory
// keeps pointing at the parent's pages: the NIC never sees what the child
// writes there, and the child never sees what the NIC writes. Only
// MAP_SHARED memory (a memfd, e.g. verbs::SharedRegion, or shared anonymous
// memory) is the same memory in both processes and for the NIC. The kernel
// marks such mappings with 's' in the fourth permission column.
//
// Parsing is pure (host-testable on synthetic text); ReadProcSelfMaps() is
// the only function that touches the system. Thread-safe: no shared state.
#ifndef SWIFT_DAEMON_WORKER_FORK_PROC_MAPS_H_
#define SWIFT_DAEMON_WORKER_FORK_PROC_MAPS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift {

// One line of /proc/PID/maps.
struct MapsEntry {
  uintptr_t begin = 0;  // First byte.
  uintptr_t end = 0;    // One past the last byte.
  std::string perms;    // "rw-s", "r-xp", ...
  std::string path;     // "/memfd:x (deleted)", "[heap]", "" (anonymous).
  std::string line;     // The whole line as the kernel wrote it.

  // 's' in the fourth permission column: MAP_SHARED.
  bool shared() const { return perms.size() == 4 && perms[3] == 's'; }
};

// ParseProcMaps()
//
// Parses the text of /proc/PID/maps, one entry per non-empty line, in the
// file's (ascending address) order. kInvalidArgument naming the line when a
// line does not have the "BEGIN-END PERMS OFFSET DEV INODE [PATH]" form or
// END < BEGIN.
absl::StatusOr<std::vector<MapsEntry>> ParseProcMaps(absl::string_view text);

// CheckRangeShared()
//
// OK iff every byte of [`addr`, `addr` + `length`) lies in a MAP_SHARED
// mapping of `maps` (as ParseProcMaps() returns them; several adjacent
// shared mappings may cover the range together). Errors:
//   kInvalidArgument    `length` is 0, the range wraps around the address
//                       space, or part of it is not mapped at all (naming
//                       the first unmapped address);
//   kFailedPrecondition part of the range is private, naming the range and
//                       the private mapping's line, and saying why that
//                       breaks fork mode and what to use instead.
absl::Status CheckRangeShared(const std::vector<MapsEntry>& maps,
                              uintptr_t addr, size_t length);

// ReadProcSelfMaps()
//
// The whole text of /proc/self/maps of the calling process. Errors: the
// status of open()'s or read()'s errno. Reads a file the kernel generates
// on the fly (tens of microseconds per hundred mappings): not for the data
// path.
absl::StatusOr<std::string> ReadProcSelfMaps();

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_FORK_PROC_MAPS_H_
