// SharedRegion: memory that survives fork() as shared, the kind an MR a forked
// child uses must sit on.
//
// A private (MAP_PRIVATE or heap) buffer registered before fork() becomes a
// copy-on-write snapshot in the child that the NIC never sees (ARCHITECTURE.md).
// A SharedRegion is a memfd mapped MAP_SHARED: parent, forked children and
// any process that receives the memfd (SCM_RIGHTS) and maps it with FromFd()
// see the same pages, and so does the NIC through an MR over them. The
// mapping is populated up front (MAP_POPULATE): registering untouched memory
// costs page-table building inside ibv_reg_mr (measured ~10 ms for 4 MiB on
// rxe), which belongs to allocation, not registration.
//
// Thread-compatible. Move-only; the owner unmaps and closes in its
// destructor. Moving does not move the mapping: data() stays valid.
#ifndef SWIFT_COMMON_VERBS_SHARED_REGION_H_
#define SWIFT_COMMON_VERBS_SHARED_REGION_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace swift::verbs {

class SharedRegion final {
 public:
  // Create()
  //
  // memfd_create(`name`, MFD_CLOEXEC), ftruncate() to `size` rounded up to
  // the page size, mmap(PROT_READ|PROT_WRITE, MAP_SHARED|MAP_POPULATE).
  // The memory starts zeroed. `name` is only a label (/proc/PID/maps shows
  // "/memfd:<name>"). Errors: kInvalidArgument when `size` is 0; otherwise
  // the status of the failing call's errno (e.g. kResourceExhausted for
  // ENOMEM), naming the call and `name`.
  static absl::StatusOr<SharedRegion> Create(absl::string_view name,
                                             size_t size);

  // FromFd()
  //
  // Maps all of the memfd (or any shareable file) `fd`, e.g. one received
  // from another process, MAP_SHARED|MAP_POPULATE, and takes ownership of
  // `fd`. Errors: kInvalidArgument when `fd` is invalid or the file is empty;
  // otherwise the status of fstat()'s or mmap()'s errno.
  static absl::StatusOr<SharedRegion> FromFd(UniqueFd fd);

  SharedRegion(SharedRegion&& other) noexcept;
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion();

  // The mapping; nullptr only in a moved-from region.
  uint8_t* data() const { return data_; }
  // Bytes mapped: a multiple of the page size.
  size_t size() const { return size_; }
  // The memfd, for passing to another process. Still owned by this region.
  int fd() const { return fd_.get(); }

 private:
  SharedRegion(UniqueFd fd, uint8_t* data, size_t size)
      : fd_(std::move(fd)), data_(data), size_(size) {}

  // Unmaps and closes whatever this region owns.
  void Reset();

  UniqueFd fd_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_SHARED_REGION_H_
