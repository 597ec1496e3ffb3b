// swift/log.h: where libswift's messages go.
//
// libswift returns its errors as statuses. What it cannot return (a setting
// it ignored, a slower path it took, a verbs object it could not free in a
// destructor) it reports as one line on stderr, e.g.
//
//   swift W session_buffer.cc:42] libswift: swiftd leased no memory: ...
//
// An application with a logger of its own routes those lines to it:
//
//   swift::SetLogFunction([](swift::LogLevel level, const char* file,
//                            int line, absl::string_view message) {
//     my_logger.Log(level == swift::LogLevel::kError ? ERROR : WARNING,
//                   file, line, message);
//   });
//
// libswift links no logging library of its own (no glog), so it imposes
// none on the application.
#ifndef SWIFT_LOG_H_
#define SWIFT_LOG_H_

#include "absl/strings/string_view.h"

namespace swift {

enum class LogLevel { kInfo, kWarning, kError };

// Receives each message; `file` is the reporting source file's path.
// Called on whichever thread reports, possibly several at once.
using LogFunction = void (*)(LogLevel level, const char* file, int line,
                             absl::string_view message);

// Installs `function` for the whole process; nullptr goes back to stderr.
void SetLogFunction(LogFunction function);

}  // namespace swift

#endif  // SWIFT_LOG_H_
