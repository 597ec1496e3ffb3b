// SetLogFunction(); see swift/log.h. Forwards common/log.h's messages.
#include "swift/log.h"

#include <atomic>

#include "common/log.h"

namespace swift {
namespace {

std::atomic<LogFunction> application_function{nullptr};

LogLevel LevelOf(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kInfo:
      return LogLevel::kInfo;
    case LogSeverity::kWarning:
      return LogLevel::kWarning;
    case LogSeverity::kError:
      return LogLevel::kError;
  }
  return LogLevel::kError;
}

void ToApplication(LogSeverity severity, const char* file, int line,
                   absl::string_view message) {
  if (const LogFunction function = application_function.load();
      function != nullptr) {
    function(LevelOf(severity), file, line, message);
  }
}

}  // namespace

void SetLogFunction(LogFunction function) {
  application_function.store(function);
  SetLogHandler(function != nullptr ? &ToApplication : nullptr);
}

}  // namespace swift
