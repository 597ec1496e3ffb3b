// Mr implementation; see mr.h.
#include "common/verbs/mr.h"

#include <cassert>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/log.h"

namespace swift::verbs {

absl::StatusOr<std::unique_ptr<Mr>> Mr::Register(std::shared_ptr<Pd> pd,
                                                 void* addr, size_t length,
                                                 int access) {
  if (pd == nullptr || pd->get() == nullptr) {
    return absl::InvalidArgumentError("Mr::Register: no PD");
  }
  if (length == 0) {
    return absl::InvalidArgumentError("Mr::Register: zero length");
  }
  errno = 0;
  ibv_mr* mr = ibv_reg_mr(pd->get(), addr, length, access);
  if (mr == nullptr) {
    return ErrnoStatus(errno, absl::StrFormat("ibv_reg_mr(%s, %p+%u)",
                                              pd->Describe(), addr, length));
  }
  return std::make_unique<Mr>(PrivateKey(), std::move(pd), mr);
}

Mr::~Mr() {
  if (absl::Status status = Destroy(); !status.ok()) {
    SWIFT_LOG(Error, "leaking MR: ", status.ToString());
  }
}

absl::Status Mr::Destroy() {
  if (mr_ == nullptr) {
    return absl::OkStatus();
  }
  const std::string what = absl::StrCat("ibv_dereg_mr(", Describe(), ")");
  if (int rc = ibv_dereg_mr(mr_); rc != 0) {
    return ErrnoStatus(rc, what);
  }
  mr_ = nullptr;
  return absl::OkStatus();
}

ibv_sge Mr::Sge(size_t offset, uint32_t length) const {
  assert(offset + length <= this->length());
  ibv_sge sge = {};
  sge.addr = reinterpret_cast<uintptr_t>(addr()) + offset;
  sge.length = length;
  sge.lkey = lkey();
  return sge;
}

RemoteBuffer Mr::Remote() const {
  RemoteBuffer remote;
  remote.addr = reinterpret_cast<uintptr_t>(addr());
  remote.length = length();
  remote.rkey = rkey();
  return remote;
}

std::string Mr::Describe() const {
  if (mr_ == nullptr) {
    return absl::StrCat("destroyed mr in ", pd_->Describe());
  }
  return absl::StrFormat("mr lkey=0x%x [%p+%u] in %s", mr_->lkey, mr_->addr,
                         mr_->length, pd_->Describe());
}

}  // namespace swift::verbs
