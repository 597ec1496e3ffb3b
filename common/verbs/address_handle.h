// AddressHandle: where a UD send goes (ibv_ah), destroyed with its owner.
//
// An AddressHandle holds its Pd (std::shared_ptr), so the PD outlives it.
// Build the attributes with MakeAhAttr() (port_address.h). A UD send that
// names an AddressHandle needs it alive until the send completes.
//
// Thread-compatible. Move-only through std::unique_ptr.
#ifndef SWIFT_COMMON_VERBS_ADDRESS_HANDLE_H_
#define SWIFT_COMMON_VERBS_ADDRESS_HANDLE_H_

#include <infiniband/verbs.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/verbs/pd.h"

namespace swift::verbs {

class AddressHandle final {
  struct PrivateKey {
    explicit PrivateKey() = default;
  };

 public:
  // Create()
  //
  // ibv_create_ah(`pd`, `attr`). On RoCE `attr` must be global (GRH) with a
  // valid sgid_index. Errors carry the verb's errno naming the PD, e.g.
  // kInvalidArgument for a bad GID index or kUnavailable (ENETUNREACH) when
  // the kernel finds no route to the destination GID.
  static absl::StatusOr<std::unique_ptr<AddressHandle>> Create(
      std::shared_ptr<Pd> pd, const ibv_ah_attr& attr);

  // Use Create(); takes ownership of `ah`.
  AddressHandle(PrivateKey, std::shared_ptr<Pd> pd, ibv_ah* ah)
      : pd_(std::move(pd)), ah_(ah) {}

  AddressHandle(const AddressHandle&) = delete;
  AddressHandle& operator=(const AddressHandle&) = delete;

  // Destroys the AH unless Destroy() already did; a failure is logged.
  ~AddressHandle();

  // Destroy()
  //
  // ibv_destroy_ah now. OK on success or when already destroyed; on failure
  // (the verb's errno status) the AH stays owned.
  absl::Status Destroy();

  // The AH, or nullptr after a successful Destroy().
  ibv_ah* get() const { return ah_; }
  const std::shared_ptr<Pd>& pd() const { return pd_; }

 private:
  // Declared first: released after the AH is destroyed.
  const std::shared_ptr<Pd> pd_;
  ibv_ah* ah_;
};

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_ADDRESS_HANDLE_H_
