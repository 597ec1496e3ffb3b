// FunctionLibrary: a function's shared library, loaded, and the entry point
// it exports (swift/function.h).
//
// Open() loads the library (RTLD_NOW: an unresolved symbol fails here, not
// in an instance) and finds SWIFT_FUNCTION_SYMBOL. A library that does not
// export it is unloaded again at once. A library that opened stays loaded
// for the life of the process, even after its FunctionLibrary is gone: its
// code may still be referenced until exit (threads a function started in a
// cold worker, atexit and thread-local destructors it registered), so
// unloading it would turn the worker's orderly exit into a crash.
//
// Thread-compatible; function() may be called from any thread and from
// forked children.
#ifndef SWIFT_DAEMON_WORKER_FUNCTION_LIBRARY_H_
#define SWIFT_DAEMON_WORKER_FUNCTION_LIBRARY_H_

#include <string>

#include "absl/status/statusor.h"
#include "swift/function.h"

namespace swift {

class FunctionLibrary final {
 public:
  // Open()
  //
  // Loads `path` and resolves its entry point. kNotFound when the library
  // cannot be loaded (dlerror() says why); kInvalidArgument when it exports
  // no SWIFT_FUNCTION_SYMBOL.
  static absl::StatusOr<FunctionLibrary> Open(const std::string& path);

  FunctionLibrary(FunctionLibrary&&) = default;
  FunctionLibrary& operator=(FunctionLibrary&&) = default;

  // The entry point; never null.
  swift_function_fn function() const { return function_; }
  const std::string& path() const { return path_; }

 private:
  FunctionLibrary(std::string path, swift_function_fn function)
      : path_(std::move(path)), function_(function) {}

  std::string path_;
  swift_function_fn function_ = nullptr;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_FUNCTION_LIBRARY_H_
