// ShareableContext implementation; see shareable_context.h.
#include "common/verbs/shareable_context.h"

#include <fcntl.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/verbs/device_list.h"

namespace swift::verbs {

absl::StatusOr<std::unique_ptr<ShareableContext>> ShareableContext::Open(
    absl::string_view name) {
  SWIFT_ASSIGN_OR_RETURN(DeviceList devices, DeviceList::Get());
  SWIFT_ASSIGN_OR_RETURN(ibv_device * device, devices.Find(name));
  errno = 0;
  ibv_context* context = ibv_open_device(device);
  if (context == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("ibv_open_device(", name, ")"));
  }
  errno = 0;
  ibv_pd* pd = ibv_alloc_pd(context);
  if (pd == nullptr) {
    const int error = errno;
    ibv_close_device(context);
    return ErrnoStatus(error, absl::StrCat("ibv_alloc_pd(", name, ")"));
  }
  return std::unique_ptr<ShareableContext>(
      new ShareableContext(context, pd, std::string(name)));
}

ShareableContext::~ShareableContext() {
  if (handed_out_) {
    // The kernel object is the client's now: forget swiftd's view only.
    ibv_unimport_pd(pd_);
  } else if (int rc = ibv_dealloc_pd(pd_); rc != 0) {
    SWIFT_LOG(Error, "ibv_dealloc_pd(pd ", pd_->handle, " on ", device_,
              ") failed: ", rc, "; the kernel frees it with the context");
  }
  if (int rc = ibv_close_device(context_); rc != 0) {
    SWIFT_LOG(Error, "ibv_close_device(", device_, ") failed: ", rc);
  }
}

absl::StatusOr<UniqueFd> ShareableContext::DupCommandFd() const {
  UniqueFd fd(fcntl(context_->cmd_fd, F_DUPFD_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("dup(", device_, "'s command fd)"));
  }
  return fd;
}

}  // namespace swift::verbs
