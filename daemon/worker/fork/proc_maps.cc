// ProcMaps implementation; see proc_maps.h.
#include "daemon/worker/fork/proc_maps.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace swift {
namespace {

// Splits the first whitespace-separated field off `rest`.
absl::string_view NextField(absl::string_view& rest) {
  rest = absl::StripLeadingAsciiWhitespace(rest);
  size_t end = 0;
  while (end < rest.size() && !absl::ascii_isspace(rest[end])) {
    ++end;
  }
  absl::string_view field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

absl::Status BadLine(absl::string_view line, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("/proc/PID/maps line '", line, "': ", why));
}

absl::StatusOr<MapsEntry> ParseLine(absl::string_view line) {
  absl::string_view rest = line;
  const absl::string_view range = NextField(rest);
  const absl::string_view perms = NextField(rest);
  const absl::string_view offset = NextField(rest);
  const absl::string_view device = NextField(rest);
  const absl::string_view inode = NextField(rest);
  if (inode.empty()) {
    return BadLine(line, "fewer than 5 fields");
  }
  const size_t dash = range.find('-');
  if (dash == absl::string_view::npos) {
    return BadLine(line, "address range without '-'");
  }
  uint64_t begin = 0;
  uint64_t end = 0;
  if (!absl::SimpleHexAtoi(range.substr(0, dash), &begin) ||
      !absl::SimpleHexAtoi(range.substr(dash + 1), &end)) {
    return BadLine(line, "address range is not hexadecimal");
  }
  if (end < begin) {
    return BadLine(line, "range ends before it begins");
  }
  if (perms.size() != 4) {
    return BadLine(line, "permissions are not 4 characters");
  }
  (void)offset;
  (void)device;
  MapsEntry entry;
  entry.begin = static_cast<uintptr_t>(begin);
  entry.end = static_cast<uintptr_t>(end);
  entry.perms = std::string(perms);
  entry.path = std::string(absl::StripAsciiWhitespace(rest));
  entry.line = std::string(line);
  return entry;
}

std::string RangeText(uintptr_t addr, uintptr_t end) {
  return absl::StrFormat("[0x%x, 0x%x) (%u bytes)", addr, end, end - addr);
}

}  // namespace

absl::StatusOr<std::vector<MapsEntry>> ParseProcMaps(absl::string_view text) {
  std::vector<MapsEntry> entries;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StripAsciiWhitespace(line).empty()) {
      continue;
    }
    absl::StatusOr<MapsEntry> entry = ParseLine(line);
    if (!entry.ok()) {
      return entry.status();
    }
    entries.push_back(*std::move(entry));
  }
  return entries;
}

absl::Status CheckRangeShared(const std::vector<MapsEntry>& maps,
                              uintptr_t addr, size_t length) {
  if (length == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("memory range at 0x%x: length is 0", addr));
  }
  if (addr + length < addr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "memory range at 0x%x of %u bytes wraps around the address space", addr,
        length));
  }
  const uintptr_t end = addr + length;
  uintptr_t cursor = addr;  // Every byte below it is known to be shared.
  for (const MapsEntry& entry : maps) {
    if (entry.end <= cursor) {
      continue;
    }
    if (entry.begin > cursor) {
      break;  // A hole at `cursor`.
    }
    if (!entry.shared()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "memory ", RangeText(addr, end),
          " is not all MAP_SHARED: ", absl::StrFormat("0x%x", cursor),
          " lies in the private mapping '", entry.line,
          "'; private (MAP_PRIVATE/anonymous) memory registered before fork "
          "is a snapshot in the child: the NIC would never see the child's "
          "writes; register MAP_SHARED memory, e.g. a memfd "
          "(verbs::SharedRegion)"));
    }
    cursor = entry.end;
    if (cursor >= end) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "memory ", RangeText(addr, end), " is not all mapped: ",
      absl::StrFormat("0x%x", cursor), " is in no mapping of the process"));
}

absl::StatusOr<std::string> ReadProcSelfMaps() {
  UniqueFd fd(open("/proc/self/maps", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "open(/proc/self/maps)");
  }
  std::string text;
  char chunk[16384];
  for (;;) {
    const ssize_t got = read(fd.get(), chunk, sizeof(chunk));
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus(errno, "read(/proc/self/maps)");
    }
    if (got == 0) {
      return text;
    }
    text.append(chunk, static_cast<size_t>(got));
  }
}

}  // namespace swift
