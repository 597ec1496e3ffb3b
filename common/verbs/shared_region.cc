// SharedRegion implementation; see shared_region.h.
#include "common/verbs/shared_region.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/log.h"

namespace swift::verbs {
namespace {

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

size_t RoundUpToPage(size_t size) {
  const size_t page = PageSize();
  return (size + page - 1) / page * page;
}

// mmap()s `size` bytes of `fd` shared and pre-faulted.
absl::StatusOr<uint8_t*> MapShared(int fd, size_t size,
                                   absl::string_view what) {
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, fd, 0);
  if (data == MAP_FAILED) {
    return ErrnoStatus(errno, absl::StrCat("mmap(", what, ", ", size, ")"));
  }
  return static_cast<uint8_t*>(data);
}

}  // namespace

absl::StatusOr<SharedRegion> SharedRegion::Create(absl::string_view name,
                                                  size_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SharedRegion '", name, "': size must be > 0"));
  }
  const std::string label(name);
  UniqueFd fd(memfd_create(label.c_str(), MFD_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("memfd_create(", label, ")"));
  }
  const size_t mapped = RoundUpToPage(size);
  if (ftruncate(fd.get(), static_cast<off_t>(mapped)) != 0) {
    return ErrnoStatus(
        errno, absl::StrCat("ftruncate(memfd ", label, ", ", mapped, ")"));
  }
  absl::StatusOr<uint8_t*> data =
      MapShared(fd.get(), mapped, absl::StrCat("memfd ", label));
  if (!data.ok()) {
    return data.status();
  }
  return SharedRegion(std::move(fd), *data, mapped);
}

absl::StatusOr<SharedRegion> SharedRegion::FromFd(UniqueFd fd) {
  if (!fd.valid()) {
    return absl::InvalidArgumentError("SharedRegion::FromFd: invalid fd");
  }
  struct stat st = {};
  if (fstat(fd.get(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fstat(fd ", fd.get(), ")"));
  }
  if (st.st_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SharedRegion::FromFd: fd ", fd.get(), " is empty"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  absl::StatusOr<uint8_t*> data =
      MapShared(fd.get(), size, absl::StrCat("fd ", fd.get()));
  if (!data.ok()) {
    return data.status();
  }
  return SharedRegion(std::move(fd), *data, size);
}

SharedRegion::SharedRegion(SharedRegion&& other) noexcept
    : fd_(std::move(other.fd_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::move(other.fd_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedRegion::~SharedRegion() { Reset(); }

void SharedRegion::Reset() {
  if (data_ != nullptr && munmap(data_, size_) != 0) {
    SWIFT_LOG(Error, "munmap(memfd region fd=", fd_.get(), ", ", size_,
              " bytes) failed: ", std::strerror(errno));
  }
  data_ = nullptr;
  size_ = 0;
  fd_.Reset();
}

}  // namespace swift::verbs
