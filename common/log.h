// SWIFT_LOG: how code shared by swiftd and libswift reports what it cannot
// return as a status (a verbs object leaked in a destructor, a setting
// ignored, a slower path taken).
//
// Why not glog here: libswift runs inside applications. glog linked into
// them brings its global state (its flags, a user-name lookup at static
// initialization, and libunwind with liblzma for stack traces): ~7 ms of
// every new process's start in the guest (issue 11), and a clash with an
// application that links its own glog. So common/ and libswift log
// through one function: swiftd and its workers route it to glog
// (log_to_glog.h), an application to its own logger (swift/log.h), and
// by default it goes to stderr, one line per message.
//
//   SWIFT_LOG(Warning, "GIDs of ", name, " not listed: ", status.ToString());
//   SWIFT_LOG_ONCE(Warning, "...");  // once per process and call site
//
// The arguments are absl::StrCat's. Thread-safe.
#ifndef SWIFT_COMMON_LOG_H_
#define SWIFT_COMMON_LOG_H_

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace swift {

enum class LogSeverity { kInfo, kWarning, kError };

// Receives every message; `file` is the call site's __FILE__.
using LogHandler = void (*)(LogSeverity severity, const char* file, int line,
                            absl::string_view message);

// Installs `handler` for the whole process; nullptr restores the default
// (stderr). Returns the handler it replaces (nullptr for the default).
LogHandler SetLogHandler(LogHandler handler);

// Hands one message to the installed handler.
void LogMessage(LogSeverity severity, const char* file, int line,
                absl::string_view message);

// The default handler's line for a message, without the newline:
// "swift W file.cc:42] message" (the file without its directories).
std::string FormatLogLine(LogSeverity severity, const char* file, int line,
                          absl::string_view message);

}  // namespace swift

#define SWIFT_LOG(severity, ...)                                             \
  ::swift::LogMessage(::swift::LogSeverity::k##severity, __FILE__, __LINE__, \
                      ::absl::StrCat(__VA_ARGS__))

#define SWIFT_LOG_ONCE(severity, ...)                                     \
  do {                                                                    \
    static std::atomic<bool> swift_log_once_done{false};                  \
    if (!swift_log_once_done.exchange(true, std::memory_order_relaxed)) { \
      SWIFT_LOG(severity, __VA_ARGS__);                                   \
    }                                                                     \
  } while (false)

#endif  // SWIFT_COMMON_LOG_H_
