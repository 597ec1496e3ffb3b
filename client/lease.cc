// LeasedMemory implementation; see lease.h.
#include "client/lease.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace swift {

namespace {

// Builds the page tables of [data, data + bytes) with read faults (on a
// shared mapping the kernel then maps 16 pages per fault), a slice per
// call: each call holds the process's mmap lock only for its slice, so a
// thread loading a library beside this one (its mmap() needs that lock
// for writing) waits for one slice, not the whole buffer. Best effort:
// kernels before 5.14 lack MADV_POPULATE_READ, and ibv_reg_mr then
// faults the pages itself.
void PopulateInSteps(void* data, uint64_t bytes) {
#ifdef MADV_POPULATE_READ
  constexpr uint64_t kSlice = 256 * 1024;
  auto* start = static_cast<char*>(data);
  for (uint64_t done = 0; done < bytes; done += kSlice) {
    if (madvise(start + done, std::min(kSlice, bytes - done),
                MADV_POPULATE_READ) != 0) {
      return;
    }
  }
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace

absl::StatusOr<LeasedMemory> LeasedMemory::Take(FastPathClient* fast_path,
                                                uint64_t bytes,
                                                const Options& options) {
  v1::FastRequest request;
  request.mutable_lease()->set_bytes(bytes);
  request.mutable_lease()->set_device(options.device);
  std::vector<UniqueFd> fds;
  absl::StatusOr<v1::FastResponse> response =
      fast_path->CallWithFds(std::move(request), &fds);
  if (!response.ok()) {
    return response.status();
  }
  const v1::LeaseResult& result = response->lease();
  LeasedMemory lease;
  // From here the destructor gives the lease back on every failure.
  lease.fast_path_ = fast_path;
  lease.lease_id_ = result.lease_id();
  lease.owner_pid_ = getpid();
  if (!response->has_lease() || fds.size() != 1) {
    return absl::InternalError(absl::StrCat("swiftd's lease answer carried ",
                                            fds.size(), " fds, not one"));
  }
  lease.fd_ = std::move(fds[0]);
  struct stat info = {};
  if (fstat(lease.fd_.get(), &info) != 0) {
    return ErrnoStatus(errno, "fstat(lease memfd)");
  }
  if (static_cast<uint64_t>(info.st_size) != result.size_bytes() ||
      result.size_bytes() < bytes) {
    return absl::InternalError(absl::StrCat(
        "lease ", result.lease_id(), ": the memfd has ", info.st_size,
        " bytes, swiftd said ", result.size_bytes(), " for ", bytes, " asked"));
  }
  void* data = mmap(nullptr, result.size_bytes(), PROT_READ | PROT_WRITE,
                    MAP_SHARED, lease.fd_.get(), 0);
  if (data == MAP_FAILED) {
    return ErrnoStatus(errno,
                       absl::StrCat("mmap(lease ", result.lease_id(), ", ",
                                    result.size_bytes(), " bytes)"));
  }
  if (options.populate_mapping) {
    PopulateInSteps(data, result.size_bytes());
  }
  lease.data_ = data;
  lease.size_ = result.size_bytes();
  lease.hugepage_ = result.hugepage();
  lease.from_pool_ = result.from_pool();
  return lease;
}

LeasedMemory::LeasedMemory(LeasedMemory&& other) noexcept
    : fast_path_(std::exchange(other.fast_path_, nullptr)),
      fd_(std::move(other.fd_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      hugepage_(other.hugepage_),
      from_pool_(other.from_pool_),
      lease_id_(std::exchange(other.lease_id_, 0)),
      owner_pid_(std::exchange(other.owner_pid_, 0)) {}

LeasedMemory& LeasedMemory::operator=(LeasedMemory&& other) noexcept {
  if (this != &other) {
    Reset();
    fast_path_ = std::exchange(other.fast_path_, nullptr);
    fd_ = std::move(other.fd_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    hugepage_ = other.hugepage_;
    from_pool_ = other.from_pool_;
    lease_id_ = std::exchange(other.lease_id_, 0);
    owner_pid_ = std::exchange(other.owner_pid_, 0);
  }
  return *this;
}

LeasedMemory::~LeasedMemory() { Reset(); }

absl::Status LeasedMemory::Check() const {
  if (fast_path_ == nullptr || lease_id_ == 0) {
    return absl::FailedPreconditionError("no lease is held here");
  }
  v1::FastRequest check;
  check.mutable_check_lease()->set_lease_id(lease_id_);
  return fast_path_->Call(std::move(check)).status();
}

void LeasedMemory::Reset() {
  if (data_ != nullptr) {
    munmap(data_, size_);
    data_ = nullptr;
  }
  fd_.Reset();
  // A forked child shares its parent's fast path connection and lease:
  // releasing it there would take the lease from under the parent.
  if (fast_path_ != nullptr && lease_id_ != 0 && owner_pid_ == getpid()) {
    v1::FastRequest release;
    release.mutable_release_lease()->set_lease_id(lease_id_);
    (void)fast_path_->Call(std::move(release));
  }
  fast_path_ = nullptr;
  lease_id_ = 0;
  owner_pid_ = 0;
}

}  // namespace swift
