// Thread names, as `top -H`, `ps -L`, perf and /proc/PID/task/TID/comm show
// them: an operator (and tools/bench/run connect_cost, which counts each
// thread's context switches) can tell a daemon's threads apart.
#ifndef SWIFT_COMMON_THREAD_NAME_H_
#define SWIFT_COMMON_THREAD_NAME_H_

#include <string>

#include "absl/strings/string_view.h"

namespace swift {

// NameThisThread()
//
// Names the calling thread `name`, cut to the kernel's 15 bytes. Best
// effort: a name is a diagnostic, never a reason to fail.
void NameThisThread(absl::string_view name);

// The calling thread's name ("" if it cannot be read).
std::string ThisThreadName();

}  // namespace swift

#endif  // SWIFT_COMMON_THREAD_NAME_H_
