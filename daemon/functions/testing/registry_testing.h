// Helpers for tests of what registers functions (FunctionRegistry,
// FunctionRestorer): a registration by name, and the state List() gives.
#ifndef SWIFT_DAEMON_FUNCTIONS_TESTING_REGISTRY_TESTING_H_
#define SWIFT_DAEMON_FUNCTIONS_TESTING_REGISTRY_TESTING_H_

#include <string>

#include "daemon/functions/function_registry.h"
#include "proto/swift.pb.h"

namespace swift::testing {

// A registration of `name`, its library /lib/<name>.so (never opened).
inline v1::RegisterFunctionRequest Spec(const std::string& name) {
  v1::RegisterFunctionRequest spec;
  spec.set_name(name);
  spec.set_library_path("/lib/" + name + ".so");
  return spec;
}

// The state List() shows for `name` ("" when not listed).
inline std::string StateOf(const FunctionRegistry& registry,
                           const std::string& name) {
  for (const v1::WorkerInfo& info : registry.List()) {
    if (info.function() == name) {
      return info.state();
    }
  }
  return "";
}

}  // namespace swift::testing

#endif  // SWIFT_DAEMON_FUNCTIONS_TESTING_REGISTRY_TESTING_H_
