// FunctionLibrary implementation; see function_library.h.
#include "daemon/worker/function_library.h"

#include <dlfcn.h>

#include "absl/strings/str_cat.h"

namespace swift {

absl::StatusOr<FunctionLibrary> FunctionLibrary::Open(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot load function library ", path, ": ", dlerror()));
  }
  auto function =
      reinterpret_cast<swift_function_fn>(dlsym(handle, SWIFT_FUNCTION_SYMBOL));
  if (function == nullptr) {
    // Nothing of it ran: safe to unload.
    dlclose(handle);
    return absl::InvalidArgumentError(absl::StrCat(path, " exports no '",
                                                   SWIFT_FUNCTION_SYMBOL,
                                                   "' (see swift/function.h)"));
  }
  // The handle is deliberately never closed (see the header).
  return FunctionLibrary(path, function);
}

}  // namespace swift
