// Prefault implementation; see prefault.h.
#include "daemon/worker/fork/prefault.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/worker/fork/proc_maps.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace swift {
namespace {

// /proc/PID/pagemap: one 64-bit entry per virtual page.
constexpr uint64_t kPresent = uint64_t{1} << 63;
constexpr uint64_t kExclusive = uint64_t{1} << 56;

// Calls `populate` on every run of consecutive pages of [begin, end) whose
// pagemap entry satisfies `wanted`; returns the pages covered.
template <typename Wanted>
absl::StatusOr<size_t> ForEachRun(int pagemap, uintptr_t begin, uintptr_t end,
                                  size_t page, Wanted wanted, int advice) {
  size_t covered = 0;
  std::vector<uint64_t> entries(512);
  uintptr_t run_begin = 0;
  auto flush = [&](uintptr_t run_end) {
    if (run_begin != 0 && run_end > run_begin) {
      // Refusals (device memory, PROT_NONE guards) are expected: skipped.
      if (madvise(reinterpret_cast<void*>(run_begin), run_end - run_begin,
                  advice) == 0) {
        covered += (run_end - run_begin) / page;
      }
    }
    run_begin = 0;
  };
  for (uintptr_t at = begin; at < end;) {
    const size_t pages = std::min<size_t>(entries.size(), (end - at) / page);
    const off_t offset = static_cast<off_t>(at / page * sizeof(uint64_t));
    const ssize_t got =
        pread(pagemap, entries.data(), pages * sizeof(uint64_t), offset);
    if (got < 0) {
      return ErrnoStatus(errno, "pread(pagemap)");
    }
    const size_t read_pages = static_cast<size_t>(got) / sizeof(uint64_t);
    if (read_pages == 0) {
      end = at;  // Past what the kernel reports: stop here.
      break;
    }
    for (size_t i = 0; i < read_pages; ++i, at += page) {
      if (wanted(entries[i])) {
        if (run_begin == 0) {
          run_begin = at;
        }
      } else {
        flush(at);
      }
    }
  }
  flush(end);
  return covered;
}

bool IsFileBacked(const MapsEntry& entry) {
  return !entry.path.empty() && entry.path[0] == '/';
}

}  // namespace

absl::StatusOr<PrefaultStats> PrefaultForkedChild(pid_t parent) {
  absl::StatusOr<std::string> text = ReadProcSelfMaps();
  if (!text.ok()) {
    return text.status();
  }
  absl::StatusOr<std::vector<MapsEntry>> maps = ParseProcMaps(*text);
  if (!maps.ok()) {
    return maps.status();
  }
  UniqueFd own(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  const std::string parent_path = absl::StrCat("/proc/", parent, "/pagemap");
  // The parent's may be closed to us (another uid, not dumpable): then
  // only our own pages are taken care of.
  UniqueFd parents(open(parent_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!own.valid()) {
    return ErrnoStatus(errno, "open(/proc/self/pagemap)");
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  PrefaultStats stats;
  for (const MapsEntry& entry : *maps) {
    const bool readable = entry.perms.size() == 4 && entry.perms[0] == 'r';
    const bool writable = entry.perms.size() == 4 && entry.perms[1] == 'w';
    if (!readable || entry.shared()) {
      continue;  // Shared memory is never copied; PROT_NONE is a guard.
    }
    if (entry.end - entry.begin > kMaxPrefaultMapping) {
      ++stats.skipped_mappings;
      continue;
    }
    if (writable) {
      // Present and not exclusively ours: still shared with the parent.
      absl::StatusOr<size_t> copied = ForEachRun(
          own.get(), entry.begin, entry.end, page,
          [](uint64_t e) { return (e & kPresent) && !(e & kExclusive); },
          MADV_POPULATE_WRITE);
      if (!copied.ok()) {
        return copied.status();
      }
      stats.copied_pages += *copied;
    } else if (IsFileBacked(entry) && parents.valid()) {
      absl::StatusOr<size_t> mapped = ForEachRun(
          parents.get(), entry.begin, entry.end, page,
          [](uint64_t e) { return (e & kPresent) != 0; }, MADV_POPULATE_READ);
      if (!mapped.ok()) {
        return mapped.status();
      }
      stats.mapped_pages += *mapped;
    }
  }
  // A kernel without MADV_POPULATE_* refuses every call with EINVAL.
  if (stats.copied_pages == 0 && stats.mapped_pages == 0) {
    char probe = 0;
    if (madvise(reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(&probe) &
                                        ~(page - 1)),
                page, MADV_POPULATE_WRITE) != 0 &&
        errno == EINVAL) {
      return absl::UnimplementedError(
          "this kernel has no MADV_POPULATE_WRITE (Linux >= 5.14)");
    }
  }
  return stats;
}

}  // namespace swift
