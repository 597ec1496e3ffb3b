// ProviderLibrary: which user-space provider library (librxe, libmlx5, ...)
// serves an open device context, found from the context itself.
//
// libibverbs binds each device to a provider and copies the provider's
// data-path functions into the context (context->ops.poll_cq and friends):
// dladdr() on one of those pointers names the shared object that holds it,
// whatever the device is called and however the provider was loaded. This is
// what a new process must dlopen() before ibv_get_device_list() so that
// libibverbs loads no other provider (ARCHITECTURE.md, cold-start costs).
//
// Thread-safe: no state.
#ifndef SWIFT_COMMON_VERBS_PROVIDER_LIBRARY_H_
#define SWIFT_COMMON_VERBS_PROVIDER_LIBRARY_H_

#include <infiniband/verbs.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift::verbs {

struct ProviderLibrary {
  // Absolute path of the shared object as loaded, e.g.
  // "/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so".
  std::string path;
  // The provider's (driver's) name from the file name: "rxe", "mlx5".
  std::string driver;
};

// ProviderDriverName()
//
// The driver name in a provider library's file name: "librxe-rdmav34.so"
// -> "rxe", "/x/libmlx5.so.1" -> "mlx5". Empty when the name has neither
// form. Pure.
std::string ProviderDriverName(absl::string_view path);

// FindProviderLibrary()
//
// The library that holds `context`'s poll_cq (or, when a provider leaves it
// unset, post_send or req_notify_cq). kNotFound when none is set or dladdr()
// cannot place it; kInvalidArgument for a null context. Never blocks.
absl::StatusOr<ProviderLibrary> FindProviderLibrary(ibv_context* context);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_PROVIDER_LIBRARY_H_
