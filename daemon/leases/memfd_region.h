// MemfdRegion: one memfd whose memory is allocated ahead of time, the unit
// swiftd leases (daemon/leases/lease_manager.h).
//
// Why a memfd per lease, populated ahead of time: registering memory with
// a NIC costs mostly page-table building and page allocation (4 MiB on
// untouched memory ~10 ms in the guest, ~0.5-0.9 ms on a populated memfd;
// ARCHITECTURE.md, "Cold-start costs"). fallocate() allocates the pages and
// a touch of each zeroes them (a memfd's fallocate defers that to the first
// fault), in swiftd's time, before anyone asks, so the holder's mmap and
// ibv_reg_mr only map them.
//
// Why one memfd per lease, never reused: an fd to a memfd reaches all of
// it, so a memfd shared by two leases would show one holder the other's
// memory. Each lease therefore is a whole memfd of its own, trimmed to the
// lease's size and sealed (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) so
// the holder can neither resize it (SIGBUS for swiftd or a second
// mapper) nor add seals; released memfds are closed, never handed out
// again, so a new lease's memory is always fresh from the kernel (zero).
//
// Huge pages (MFD_HUGETLB) are tried when asked for and the region is at
// least one huge page; when the host has none free (fallocate fails) the
// region falls back to normal pages, and hugepage() says which it got.
//
// Thread-compatible; move-only; the fd is closed on destruction.
#ifndef SWIFT_DAEMON_LEASES_MEMFD_REGION_H_
#define SWIFT_DAEMON_LEASES_MEMFD_REGION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"

namespace swift {

class MemfdRegion final {
 public:
  // The system's page size and huge page size (/proc/meminfo's
  // Hugepagesize; 2 MiB when it does not say).
  static uint64_t PageBytes();
  static uint64_t HugepageBytes();

  // `bytes` rounded up to a whole number of pages (huge pages if `huge`).
  static uint64_t RoundUp(uint64_t bytes, bool huge);

  // Create()
  //
  // A memfd named `name` (shown in /proc/PID/maps of holders) of `bytes`
  // rounded up to the page, every page allocated and zeroed (fallocate
  // where the file system has it, then a MAP_POPULATE touch). With
  // `try_hugepages` and `bytes` >= HugepageBytes(), huge pages first, normal
  // pages when that fails. Not sealed yet (TrimAndSeal()). kInvalidArgument for
  // 0 bytes; kResourceExhausted when the memory cannot be had (ENOMEM, ENOSPC,
  // EMFILE); otherwise the failing call's errno status.
  static absl::StatusOr<MemfdRegion> Create(const char* name, uint64_t bytes,
                                            bool try_hugepages);

  MemfdRegion(MemfdRegion&&) = default;
  MemfdRegion& operator=(MemfdRegion&&) = default;
  MemfdRegion(const MemfdRegion&) = delete;
  MemfdRegion& operator=(const MemfdRegion&) = delete;

  // TrimAndSeal()
  //
  // Shrinks the memfd to `bytes` rounded up to its page size (freeing the
  // rest; kInvalidArgument when that is more than size()) and seals it
  // against shrinking, growing and further seals. Once only:
  // kFailedPrecondition when already sealed.
  absl::Status TrimAndSeal(uint64_t bytes);

  // A new fd for the same memfd (close-on-exec), to send to a holder.
  absl::StatusOr<UniqueFd> Duplicate() const;

  int fd() const { return fd_.get(); }
  uint64_t size() const { return size_; }
  bool hugepage() const { return hugepage_; }
  bool sealed() const { return sealed_; }
  // How long Create() took to allocate the pages.
  absl::Duration populate_time() const { return populate_time_; }

 private:
  // One attempt with normal or huge pages; `size` is already rounded.
  static absl::StatusOr<MemfdRegion> CreateOnce(const char* name, uint64_t size,
                                                bool huge, absl::Time start);
  MemfdRegion(UniqueFd fd, uint64_t size, bool hugepage,
              absl::Duration populate_time)
      : fd_(std::move(fd)),
        size_(size),
        hugepage_(hugepage),
        populate_time_(populate_time) {}

  UniqueFd fd_;
  uint64_t size_ = 0;
  bool hugepage_ = false;
  bool sealed_ = false;
  absl::Duration populate_time_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_LEASES_MEMFD_REGION_H_
