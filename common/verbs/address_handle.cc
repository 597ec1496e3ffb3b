// AddressHandle implementation; see address_handle.h.
#include "common/verbs/address_handle.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/log.h"

namespace swift::verbs {

absl::StatusOr<std::unique_ptr<AddressHandle>> AddressHandle::Create(
    std::shared_ptr<Pd> pd, const ibv_ah_attr& attr) {
  if (pd == nullptr || pd->get() == nullptr) {
    return absl::InvalidArgumentError("AddressHandle::Create: no PD");
  }
  // ibv_create_ah takes a non-const pointer but does not modify the attrs.
  ibv_ah_attr copy = attr;
  errno = 0;
  ibv_ah* ah = ibv_create_ah(pd->get(), &copy);
  if (ah == nullptr) {
    return ErrnoStatus(
        errno, absl::StrCat("ibv_create_ah(", pd->Describe(), ", sgid_index ",
                            attr.grh.sgid_index, ")"));
  }
  return std::make_unique<AddressHandle>(PrivateKey(), std::move(pd), ah);
}

AddressHandle::~AddressHandle() {
  if (absl::Status status = Destroy(); !status.ok()) {
    SWIFT_LOG(Error, "leaking address handle: ", status.ToString());
  }
}

absl::Status AddressHandle::Destroy() {
  if (ah_ == nullptr) {
    return absl::OkStatus();
  }
  if (int rc = ibv_destroy_ah(ah_); rc != 0) {
    return ErrnoStatus(rc, absl::StrCat("ibv_destroy_ah(ah ", ah_->handle,
                                        " in ", pd_->Describe(), ")"));
  }
  ah_ = nullptr;
  return absl::OkStatus();
}

}  // namespace swift::verbs
