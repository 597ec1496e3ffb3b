// ChangeBoard implementation; see change_board.h.
#include "daemon/broker/change_board.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace swift {

ChangeBoard::~ChangeBoard() {
  absl::MutexLock lock(&mu_);
  for (auto& [uid, page] : pages_) {
    munmap(page.mapped, ChangePage::kBytes);
  }
}

absl::StatusOr<ChangeBoard::Shared> ChangeBoard::Share(uid_t uid) {
  absl::MutexLock lock(&mu_);
  auto it = pages_.find(uid);
  if (it == pages_.end()) {
    if (static_cast<int>(pages_.size()) >= max_pages_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "swiftd keeps change pages for ", max_pages_,
          " tenants already; check connections with check_connections"));
    }
    Page page;
    page.fd = UniqueFd(memfd_create("swift-changes", MFD_CLOEXEC));
    if (!page.fd.valid()) {
      return ErrnoStatus(errno, "memfd_create(swift-changes)");
    }
    if (ftruncate(page.fd.get(), ChangePage::kBytes) != 0) {
      return ErrnoStatus(errno, "ftruncate(swift-changes)");
    }
    void* mapped = mmap(nullptr, ChangePage::kBytes, PROT_READ | PROT_WRITE,
                        MAP_SHARED, page.fd.get(), 0);
    if (mapped == MAP_FAILED) {
      return ErrnoStatus(errno, "mmap(swift-changes)");
    }
    page.mapped = static_cast<ChangePage*>(mapped);
    page.mapped->magic = ChangePage::kMagic;
    it = pages_.emplace(uid, std::move(page)).first;
  }
  // A second, read-only open of the same memfd: its holder cannot write
  // the tenant's page (every process of the tenant reads it) nor resize it.
  const std::string self = absl::StrCat("/proc/self/fd/", it->second.fd.get());
  Shared shared;
  shared.fd = UniqueFd(open(self.c_str(), O_RDONLY | O_CLOEXEC));
  if (!shared.fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("open(", self, ", O_RDONLY)"));
  }
  shared.generation = LoadChangeGeneration(*it->second.mapped);
  return shared;
}

void ChangeBoard::Bump(uid_t uid) {
  absl::MutexLock lock(&mu_);
  auto it = pages_.find(uid);
  if (it != pages_.end()) {
    BumpChangeGeneration(*it->second.mapped);
  }
}

uint64_t ChangeBoard::Generation(uid_t uid) const {
  absl::MutexLock lock(&mu_);
  auto it = pages_.find(uid);
  return it == pages_.end() ? 0 : LoadChangeGeneration(*it->second.mapped);
}

}  // namespace swift
