// Finds the provider library of a context; see provider_library.h.
#include "common/verbs/provider_library.h"

#include <dlfcn.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace swift::verbs {

std::string ProviderDriverName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  absl::string_view file =
      slash == absl::string_view::npos ? path : path.substr(slash + 1);
  if (!absl::ConsumePrefix(&file, "lib")) {
    return "";
  }
  // libibverbs' own naming ("lib<driver>-rdmav<ABI>.so"), then a plain
  // shared library ("libmlx5.so.1", what the -rdmav34.so symlink names).
  if (const size_t dash = file.find("-rdmav");
      dash != absl::string_view::npos) {
    return std::string(file.substr(0, dash));
  }
  if (const size_t dot = file.find(".so"); dot != absl::string_view::npos) {
    return std::string(file.substr(0, dot));
  }
  return "";
}

absl::StatusOr<ProviderLibrary> FindProviderLibrary(ibv_context* context) {
  if (context == nullptr) {
    return absl::InvalidArgumentError("FindProviderLibrary: null context");
  }
  // Function pointers the provider sets (libibverbs' own defaults for the
  // rest would name libibverbs itself).
  const void* candidates[] = {
      reinterpret_cast<const void*>(context->ops.poll_cq),
      reinterpret_cast<const void*>(context->ops.post_send),
      reinterpret_cast<const void*>(context->ops.req_notify_cq),
  };
  for (const void* function : candidates) {
    if (function == nullptr) {
      continue;
    }
    Dl_info info = {};
    if (dladdr(function, &info) == 0 || info.dli_fname == nullptr) {
      continue;
    }
    ProviderLibrary library;
    library.path = info.dli_fname;
    library.driver = ProviderDriverName(library.path);
    return library;
  }
  return absl::NotFoundError(absl::StrCat(
      "cannot tell which provider library serves ",
      ibv_get_device_name(context->device),
      ": its context has no data-path function dladdr() can place"));
}

}  // namespace swift::verbs
