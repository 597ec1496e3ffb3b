// Pd implementation; see pd.h.
#include "common/verbs/pd.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/log.h"

namespace swift::verbs {

absl::StatusOr<std::shared_ptr<Pd>> Pd::Allocate(
    std::shared_ptr<Context> context) {
  if (context == nullptr) {
    return absl::InvalidArgumentError("Pd::Allocate: null context");
  }
  errno = 0;
  ibv_pd* pd = ibv_alloc_pd(context->get());
  if (pd == nullptr) {
    return ErrnoStatus(errno,
                       absl::StrCat("ibv_alloc_pd(", context->name(), ")"));
  }
  return std::make_shared<Pd>(PrivateKey(), std::move(context), pd);
}

absl::StatusOr<std::shared_ptr<Pd>> Pd::Import(std::shared_ptr<Context> context,
                                               uint32_t handle) {
  if (context == nullptr) {
    return absl::InvalidArgumentError("Pd::Import: null context");
  }
  errno = 0;
  ibv_pd* pd = ibv_import_pd(context->get(), handle);
  if (pd == nullptr) {
    return ErrnoStatus(errno != 0 ? errno : EINVAL,
                       absl::StrCat("ibv_import_pd(", context->name(),
                                    ", handle ", handle, ")"));
  }
  return std::make_shared<Pd>(PrivateKey(), std::move(context), pd);
}

Pd::~Pd() {
  if (absl::Status status = Destroy(); !status.ok()) {
    SWIFT_LOG(Error, "leaking ", Describe(), ": ", status.ToString());
  }
}

absl::Status Pd::Destroy() {
  if (pd_ == nullptr) {
    return absl::OkStatus();
  }
  if (int rc = ibv_dealloc_pd(pd_); rc != 0) {
    return ErrnoStatus(rc, absl::StrCat("ibv_dealloc_pd(", Describe(), ")"));
  }
  pd_ = nullptr;
  return absl::OkStatus();
}

std::string Pd::Describe() const {
  return absl::StrCat("pd ", handle_, " on ", context_->name());
}

}  // namespace swift::verbs
