// MemfdRegion implementation; see memfd_region.h.
#include "daemon/leases/memfd_region.h"

#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace swift {
namespace {

// ftruncate and fallocate, retried on EINTR (a signal during a large
// allocation interrupts it).
int RetryOnEintr(int (*call)(int, off_t), int fd, off_t size) {
  int result;
  do {
    result = call(fd, size);
  } while (result != 0 && errno == EINTR);
  return result;
}

int Allocate(int fd, off_t size) { return fallocate(fd, 0, 0, size); }

// Touches every page through a MAP_POPULATE mapping (read faults: each page
// is allocated if missing, zeroed and marked up to date).
absl::Status PopulateByMapping(int fd, uint64_t size) {
  void* mapping = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_POPULATE, fd, 0);
  if (mapping == MAP_FAILED) {
    return ErrnoStatus(errno, "mmap(MAP_POPULATE) of a lease memfd");
  }
  munmap(mapping, size);
  return absl::OkStatus();
}

}  // namespace

uint64_t MemfdRegion::PageBytes() {
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return page;
}

uint64_t MemfdRegion::HugepageBytes() {
  static const uint64_t huge = [] {
    std::ifstream meminfo("/proc/meminfo");
    std::string line;
    while (std::getline(meminfo, line)) {
      // "Hugepagesize:       2048 kB"
      if (line.rfind("Hugepagesize:", 0) == 0) {
        std::string number = line.substr(13);
        number = number.substr(0, number.find('k'));
        uint64_t kib = 0;
        if (absl::SimpleAtoi(number, &kib) && kib > 0) {
          return kib * 1024;
        }
      }
    }
    return uint64_t{2} << 20;
  }();
  return huge;
}

uint64_t MemfdRegion::RoundUp(uint64_t bytes, bool huge) {
  const uint64_t unit = huge ? HugepageBytes() : PageBytes();
  return (bytes + unit - 1) / unit * unit;
}

absl::StatusOr<MemfdRegion> MemfdRegion::Create(const char* name,
                                                uint64_t bytes,
                                                bool try_hugepages) {
  if (bytes == 0) {
    return absl::InvalidArgumentError("a lease of 0 bytes: ask for at least 1");
  }
  const absl::Time start = absl::Now();
  if (try_hugepages && bytes >= HugepageBytes()) {
    absl::StatusOr<MemfdRegion> huge =
        CreateOnce(name, RoundUp(bytes, true), true, start);
    if (huge.ok()) {
      return huge;
    }
    // No huge pages free (or none configured): normal pages below.
  }
  return CreateOnce(name, RoundUp(bytes, false), false, start);
}

absl::StatusOr<MemfdRegion> MemfdRegion::CreateOnce(const char* name,
                                                    uint64_t size, bool huge,
                                                    absl::Time start) {
  const unsigned int flags =
      MFD_CLOEXEC | MFD_ALLOW_SEALING | (huge ? MFD_HUGETLB : 0u);
  UniqueFd fd(memfd_create(name, flags));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("memfd_create(", name,
                                           huge ? ", MFD_HUGETLB)" : ")"));
  }
  if (RetryOnEintr(&ftruncate, fd.get(), static_cast<off_t>(size)) != 0) {
    return ErrnoStatus(errno,
                       absl::StrCat("ftruncate(", name, ", ", size, " bytes)"));
  }
  if (RetryOnEintr(&Allocate, fd.get(), static_cast<off_t>(size)) != 0) {
    const int error = errno;
    if (error != EOPNOTSUPP || huge) {
      return ErrnoStatus(
          error, absl::StrCat("fallocate(", name, ", ", size, " bytes)"));
    }
  } else if (huge) {
    // hugetlbfs zeroes the pages it allocates: nothing left to do.
    return MemfdRegion(std::move(fd), size, huge, absl::Now() - start);
  }
  // A memfd's fallocate() reserves pages but leaves them to be zeroed at
  // their first fault, which would then happen in the holder's mmap or
  // ibv_reg_mr (9-18 ms of a 4 MiB cold start in the guest). Touching them
  // here zeroes them in swiftd's time; the holder's mapping can then map
  // 16 pages per fault (fault-around only maps pages already up to date).
  if (absl::Status touched = PopulateByMapping(fd.get(), size); !touched.ok()) {
    return touched;
  }
  return MemfdRegion(std::move(fd), size, huge, absl::Now() - start);
}

absl::Status MemfdRegion::TrimAndSeal(uint64_t bytes) {
  if (sealed_) {
    return absl::FailedPreconditionError("the lease memfd is sealed already");
  }
  const uint64_t size = RoundUp(bytes, hugepage_);
  if (bytes == 0 || size > size_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot trim a ", size_, "-byte lease memfd to ", bytes, " bytes"));
  }
  if (size < size_) {
    if (RetryOnEintr(&ftruncate, fd_.get(), static_cast<off_t>(size)) != 0) {
      return ErrnoStatus(errno, "ftruncate(lease memfd)");
    }
    size_ = size;
  }
  if (fcntl(fd_.get(), F_ADD_SEALS,
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return ErrnoStatus(errno, "fcntl(F_ADD_SEALS) on a lease memfd");
  }
  sealed_ = true;
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> MemfdRegion::Duplicate() const {
  UniqueFd copy(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!copy.valid()) {
    return ErrnoStatus(errno, "fcntl(F_DUPFD_CLOEXEC) of a lease memfd");
  }
  return copy;
}

}  // namespace swift
