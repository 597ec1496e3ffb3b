// Context: an open RDMA device (ibv_context), closed when the owner dies.
//
// Objects created on a context (PDs, CQs, ...) keep a std::shared_ptr to it,
// so the context outlives them. Thread-safe as libibverbs contexts are:
// verbs may be called on get() from several threads.
#ifndef SWIFT_COMMON_VERBS_CONTEXT_H_
#define SWIFT_COMMON_VERBS_CONTEXT_H_

#include <infiniband/verbs.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace swift::verbs {

class Context final {
 public:
  // Open()
  //
  // Opens `device` (from a DeviceList, which may be freed afterwards).
  // Errors carry ibv_open_device's errno, e.g. kPermissionDenied when
  // /dev/infiniband/uverbsN is not accessible.
  static absl::StatusOr<std::shared_ptr<Context>> Open(ibv_device* device);

  // OpenByName()
  //
  // Opens the device called `name`; kNotFound lists the devices that exist.
  static absl::StatusOr<std::shared_ptr<Context>> OpenByName(
      absl::string_view name);

  // Import()
  //
  // ibv_import_device on `command_fd`: the command fd of a context another
  // process opened and passed over (SCM_RIGHTS). Both contexts are one
  // kernel file, so a PD of the other's is reachable by its handle
  // (Pd::Import) and the objects made here live until both have closed
  // it. The context owns `command_fd` from then on (ibv_close_device
  // closes it); on failure it is closed here. Errors: kUnimplemented
  // (EOPNOTSUPP) when the provider cannot import (rxe, siw: only mlx5
  // and efa can), kInvalidArgument for an fd that is no verbs device.
  static absl::StatusOr<std::shared_ptr<Context>> Import(UniqueFd command_fd);

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();

  ibv_context* get() const { return context_; }
  const std::string& name() const { return name_; }

 private:
  Context(ibv_context* context, std::string name)
      : context_(context), name_(std::move(name)) {}

  ibv_context* const context_;
  const std::string name_;
};

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_CONTEXT_H_
