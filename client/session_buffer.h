// SessionBuffer: the memory behind a Session's registered buffer (issue 11,
// the cold path): a memory lease from swiftd when swiftd grants one, else a
// memfd of the session's own, with the reason kept.
//
// A lease is a memfd swiftd populated ahead of time (daemon/leases/): the
// new process maps it and registers it without paying for allocating and
// zeroing its pages (~25 ms of a 4 MiB buffer's cold start in the guest).
// Either way the memory is a memfd mapped MAP_SHARED, so children forked
// after registration share it with the NIC as before (ARCHITECTURE.md,
// "Memory"), and it starts zeroed.
//
// Lifetime: the lease lives as long as the SessionBuffer and is released
// (one fast path round trip) when it is destroyed, in the process that took
// it only: a forked child that destroys its copy releases nothing (its
// parent still uses the lease). swiftd reclaims the lease anyway when the
// taking process's fast path connections close (exit, crash, SIGKILL).
// The owner deregisters any MR over data() before destroying this.
//
// Thread-compatible; move-only.
#ifndef SWIFT_CLIENT_SESSION_BUFFER_H_
#define SWIFT_CLIENT_SESSION_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/fast_path_client.h"
#include "client/lease.h"
#include "common/verbs/shared_region.h"

namespace swift {

class SessionBuffer final {
 public:
  struct Options {
    // Bytes the buffer must hold at least (> 0).
    size_t bytes = 0;
    // The device it will be registered on (recorded with the lease; a
    // device swiftd does not hold makes swiftd refuse, and the buffer is
    // then the session's own).
    std::string device;
    // Ask swiftd for a lease first (SessionOptions::lease_buffer), when
    // `bytes` >= `lease_min_bytes` (SessionOptions::lease_buffer_min_bytes).
    bool lease = true;
    size_t lease_min_bytes = 0;
    // Build a lease's page tables when mapping it (LeasedMemory::Options).
    bool populate_mapping = false;
  };

  // Acquire()
  //
  // A lease from swiftd through `fast_path` (which must outlive the
  // result; may be null when `options.lease` is off) or a memfd of its
  // own, with the reason kept in not_leased_because(): leasing is off, the
  // buffer is under `lease_min_bytes`, or swiftd answered an error (a
  // quota: kResourceExhausted naming its flag; kUnimplemented from a
  // swiftd without leases; kNotFound for the device; kUnavailable), which
  // is also logged once per process.
  // Errors: kInvalidArgument for 0 bytes; the own memfd's status when
  // that fails too.
  static absl::StatusOr<SessionBuffer> Acquire(FastPathClient* fast_path,
                                               const Options& options);

  SessionBuffer(SessionBuffer&&) noexcept = default;
  SessionBuffer& operator=(SessionBuffer&&) noexcept = default;
  SessionBuffer(const SessionBuffer&) = delete;
  SessionBuffer& operator=(const SessionBuffer&) = delete;
  // Unmaps; releases the lease (see the file comment).
  ~SessionBuffer() = default;

  uint8_t* data() const;
  // Bytes mapped: >= what was asked (the page or huge page rounds up).
  size_t size() const;
  // Whether the memory is swiftd's lease, and its id (0 when not).
  bool leased() const { return lease_.has_value(); }
  uint64_t lease_id() const { return leased() ? lease_->lease_id() : 0; }
  // A leased buffer on huge pages.
  bool hugepage() const { return leased() && lease_->hugepage(); }
  // OK unless the buffer is a lease whose device has gone from the host
  // (LeasedMemory::Check()).
  absl::Status Check() const {
    return leased() ? lease_->Check() : absl::OkStatus();
  }
  // Why the buffer is not a lease ("" when it is).
  const std::string& not_leased_because() const { return not_leased_because_; }

 private:
  SessionBuffer() = default;

  // Exactly one of the two is set.
  std::optional<LeasedMemory> lease_;
  std::optional<verbs::SharedRegion> own_;
  std::string not_leased_because_;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_SESSION_BUFFER_H_
