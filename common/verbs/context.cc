// Context implementation; see context.h.
#include "common/verbs/context.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/verbs/device_list.h"

namespace swift::verbs {

absl::StatusOr<std::shared_ptr<Context>> Context::Open(ibv_device* device) {
  std::string name = ibv_get_device_name(device);
  errno = 0;
  ibv_context* context = ibv_open_device(device);
  if (context == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("ibv_open_device(", name, ")"));
  }
  // The constructor is private, so std::make_shared cannot reach it.
  return std::shared_ptr<Context>(new Context(context, std::move(name)));
}

absl::StatusOr<std::shared_ptr<Context>> Context::OpenByName(
    absl::string_view name) {
  SWIFT_ASSIGN_OR_RETURN(DeviceList devices, DeviceList::Get());
  SWIFT_ASSIGN_OR_RETURN(ibv_device * device, devices.Find(name));
  return Open(device);
}

absl::StatusOr<std::shared_ptr<Context>> Context::Import(UniqueFd command_fd) {
  const int fd = command_fd.get();
  errno = 0;
  ibv_context* context = ibv_import_device(fd);
  if (context == nullptr) {
    return ErrnoStatus(errno != 0 ? errno : EINVAL,
                       absl::StrCat("ibv_import_device(fd ", fd, ")"));
  }
  command_fd.Release();  // The imported context closes it.
  return std::shared_ptr<Context>(
      new Context(context, ibv_get_device_name(context->device)));
}

Context::~Context() {
  if (int rc = ibv_close_device(context_); rc != 0) {
    SWIFT_LOG(Error, "ibv_close_device(", name_, ") failed: ", rc);
  }
}

}  // namespace swift::verbs
