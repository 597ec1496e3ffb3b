// Fork mode preconditions; see fork_support.h.
#include "daemon/worker/fork/fork_support.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/worker/fork/proc_maps.h"
#include "common/status_macros.h"

namespace swift {

absl::Status ForkModeStatus(ibv_fork_status status,
                            absl::string_view fork_safe_variable) {
  constexpr absl::string_view kNeed =
      "fork mode needs a kernel that copies pinned pages at fork (>= 5.13), "
      "where libibverbs reports IBV_FORK_UNNEEDED";
  switch (status) {
    case IBV_FORK_UNNEEDED:
      break;
    case IBV_FORK_ENABLED:
      return absl::FailedPreconditionError(absl::StrCat(
          kNeed,
          "; libibverbs reports IBV_FORK_ENABLED: this kernel does not copy "
          "pinned pages and ibv_fork_init() is in effect, whose "
          "MADV_DONTFORK leaves a forked child without its MR memory"));
    case IBV_FORK_DISABLED:
      return absl::FailedPreconditionError(absl::StrCat(
          kNeed,
          "; libibverbs reports IBV_FORK_DISABLED: this kernel does not copy "
          "pinned pages, so registered pages would be shared copy-on-write "
          "between parent and child and the NIC would write into whichever "
          "copy the parent keeps"));
    default:
      return absl::FailedPreconditionError(
          absl::StrCat(kNeed, "; libibverbs reports unknown fork status ",
                       static_cast<int>(status)));
  }
  if (!fork_safe_variable.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "fork mode forbids libibverbs' fork support, but ", fork_safe_variable,
        " is set: libibverbs then calls ibv_fork_init(), whose "
        "madvise(MADV_DONTFORK) on every MR makes a forked child crash on MR "
        "memory (the kernel copies pinned pages at fork by itself). Unset ",
        fork_safe_variable));
  }
  return absl::OkStatus();
}

absl::Status CheckCopyOnForkKernel() {
  absl::string_view fork_safe_variable;
  for (const char* name : {"RDMAV_FORK_SAFE", "IBV_FORK_SAFE"}) {
    if (std::getenv(name) != nullptr) {
      fork_safe_variable = name;
      break;
    }
  }
  return ForkModeStatus(ibv_is_fork_initialized(), fork_safe_variable);
}

absl::Status CheckSharedMemory(const void* addr, size_t length) {
  SWIFT_ASSIGN_OR_RETURN(const std::string text, ReadProcSelfMaps());
  SWIFT_ASSIGN_OR_RETURN(const std::vector<MapsEntry> maps,
                         ParseProcMaps(text));
  return CheckRangeShared(maps, reinterpret_cast<uintptr_t>(addr), length);
}

absl::Status CheckSharedMemory(const ibv_mr& mr) {
  absl::Status status = CheckSharedMemory(mr.addr, mr.length);
  if (status.ok()) {
    return status;
  }
  return absl::Status(
      status.code(),
      absl::StrFormat("MR lkey=0x%x: %s", mr.lkey, status.message()));
}

}  // namespace swift
