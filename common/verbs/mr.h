// Mr: a registered memory region (ibv_mr), deregistered when its owner dies.
//
// An Mr holds its Pd (std::shared_ptr), so the PD outlives it. It does not
// own the memory it covers: the caller keeps that memory mapped until the Mr
// is gone (declare the memory owner, e.g. a SharedRegion, before the Mr so
// it is destroyed after). Memory a forked child will use must be a
// SharedRegion (MAP_SHARED); see shared_region.h.
//
// Thread-compatible; the accessors may be read from several threads.
// Move-only through std::unique_ptr.
#ifndef SWIFT_COMMON_VERBS_MR_H_
#define SWIFT_COMMON_VERBS_MR_H_

#include <infiniband/verbs.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/pd.h"

namespace swift::verbs {

class Mr final {
  struct PrivateKey {
    explicit PrivateKey() = default;
  };

 public:
  // Access for a buffer peers may WRITE and READ and local receives may fill.
  static constexpr int kRemoteReadWrite =
      IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;

  // Register()
  //
  // ibv_reg_mr(`pd`, `addr`, `length`, `access`). `addr`..`addr`+`length`
  // must stay mapped until the Mr is destroyed. Registration pins the pages;
  // untouched memory is faulted in here (slow under emulation), so populate
  // it first when the cost matters. Errors: kInvalidArgument for a null PD or
  // zero length; otherwise the verb's errno naming the PD and range, e.g.
  // kPermissionDenied/kResourceExhausted when the memlock limit is hit.
  static absl::StatusOr<std::unique_ptr<Mr>> Register(std::shared_ptr<Pd> pd,
                                                      void* addr, size_t length,
                                                      int access);

  // Use Register(); takes ownership of `mr`.
  Mr(PrivateKey, std::shared_ptr<Pd> pd, ibv_mr* mr)
      : pd_(std::move(pd)), mr_(mr) {}

  Mr(const Mr&) = delete;
  Mr& operator=(const Mr&) = delete;

  // Deregisters unless Destroy() already did; a failure is logged, naming
  // the MR.
  ~Mr();

  // Destroy()
  //
  // ibv_dereg_mr now. OK on success or when already destroyed. On failure
  // (the verb's errno status) the MR stays registered and owned.
  absl::Status Destroy();

  // The MR, or nullptr after a successful Destroy().
  ibv_mr* get() const { return mr_; }
  const std::shared_ptr<Pd>& pd() const { return pd_; }
  uint8_t* addr() const { return static_cast<uint8_t*>(mr_->addr); }
  size_t length() const { return mr_->length; }
  uint32_t lkey() const { return mr_->lkey; }
  uint32_t rkey() const { return mr_->rkey; }

  // Sge()
  //
  // A scatter/gather entry for `length` bytes at `offset` into this MR.
  // Requires offset + length <= length().
  ibv_sge Sge(size_t offset, uint32_t length) const;

  // Remote()
  //
  // The whole MR as a peer addresses it: address, length, rkey.
  RemoteBuffer Remote() const;

  // "mr lkey=0x.. [addr+len] in pd N on dev", for messages.
  std::string Describe() const;

 private:
  // Declared first: released after the MR is deregistered.
  const std::shared_ptr<Pd> pd_;
  ibv_mr* mr_;
};

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_MR_H_
