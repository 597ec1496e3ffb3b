// LeasedMemory: memory leased from swiftd (issue 11, the cold path),
// mapped into this process. Internal to libswift (not public API yet):
// the cold start registers it as its MR, skipping the page allocation a
// fresh buffer would cost (swiftd populated it ahead of time).
//
// Take() asks swiftd on the fast path for a lease (LeaseCall), receives
// its memfd (SCM_RIGHTS) and maps it MAP_SHARED (so a forked child shares
// it too); the memory starts zeroed and cannot be resized (swiftd sealed
// it). The owner unmaps it, closes the fd and gives the lease back on
// destruction, in the process that took it only: a forked child that
// destroys its copy unmaps it and releases nothing, since its parent still
// holds the lease (the child shares the parent's fast path connections).
// swiftd also reclaims it when the FastPathClient's connections close
// (this process exits or crashes); the mapping stays valid until unmapped
// either way.
//
// Thread-compatible; move-only.
#ifndef SWIFT_CLIENT_LEASE_H_
#define SWIFT_CLIENT_LEASE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/fast_path_client.h"
#include "common/unique_fd.h"

namespace swift {

class LeasedMemory final {
 public:
  struct Options {
    // The device the memory will be registered on (swiftd checks it
    // exists; optional).
    std::string device;
    // Build the page tables now rather than at first touch or at
    // registration. Cheaper in all, not just moved: on this shared mapping
    // read faults map 16 pages each (the kernel's fault-around), where
    // ibv_reg_mr's write pin faults the pages one by one.
    bool populate_mapping = false;
  };

  // Take()
  //
  // Leases at least `bytes` from swiftd through `fast_path` (which must
  // outlive the result) and maps it. Errors: swiftd's answer
  // (kResourceExhausted naming the quota's flag, kInvalidArgument for 0
  // bytes, kNotFound for an unknown device, kUnimplemented for a swiftd
  // without leases); kUnavailable when swiftd is gone; kInternal when the
  // answer carries no fd or one of another size; mmap's errno status.
  static absl::StatusOr<LeasedMemory> Take(FastPathClient* fast_path,
                                           uint64_t bytes,
                                           const Options& options);
  static absl::StatusOr<LeasedMemory> Take(FastPathClient* fast_path,
                                           uint64_t bytes) {
    return Take(fast_path, bytes, Options());
  }

  LeasedMemory(LeasedMemory&& other) noexcept;
  LeasedMemory& operator=(LeasedMemory&& other) noexcept;
  LeasedMemory(const LeasedMemory&) = delete;
  LeasedMemory& operator=(const LeasedMemory&) = delete;
  // Unmaps, closes and releases the lease (one fast path round trip; a
  // failure is ignored: swiftd reclaims the lease when the connection
  // closes). In a forked child of the taker: unmaps and closes only.
  ~LeasedMemory();

  // Check()
  //
  // Asks swiftd whether the lease is still good: OK while the device it
  // was taken for is there; kFailedPrecondition saying why once that device
  // has gone from the host (what was registered on it went with it; the
  // memory stays mapped until this object goes); kUnavailable when swiftd
  // is gone.
  absl::Status Check() const;

  void* data() const { return data_; }
  // The lease's size: what is mapped (>= the bytes asked for).
  uint64_t size() const { return size_; }
  bool hugepage() const { return hugepage_; }
  bool from_pool() const { return from_pool_; }
  uint64_t lease_id() const { return lease_id_; }
  // The memfd (owned here), e.g. to hand to a child.
  int fd() const { return fd_.get(); }

 private:
  LeasedMemory() = default;
  void Reset();

  FastPathClient* fast_path_ = nullptr;
  UniqueFd fd_;
  void* data_ = nullptr;
  uint64_t size_ = 0;
  bool hugepage_ = false;
  bool from_pool_ = false;
  uint64_t lease_id_ = 0;
  // The process that took the lease: the only one that releases it.
  pid_t owner_pid_ = 0;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_LEASE_H_
