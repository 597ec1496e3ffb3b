// SetLogHandler() and LogMessage(); see log.h.
#include "common/log.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace swift {
namespace {

std::atomic<LogHandler> installed_handler{nullptr};

char SeverityLetter(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kInfo:
      return 'I';
    case LogSeverity::kWarning:
      return 'W';
    case LogSeverity::kError:
      return 'E';
  }
  return '?';
}

void LogToStderr(LogSeverity severity, const char* file, int line,
                 absl::string_view message) {
  std::string text = FormatLogLine(severity, file, line, message);
  text.push_back('\n');
  // One write per line, so that threads' lines do not interleave; errno is
  // the caller's (a destructor logging between a failed call and its
  // errno check must not change it).
  const int saved_errno = errno;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote =
        write(STDERR_FILENO, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) break;
    done += static_cast<size_t>(wrote);
  }
  errno = saved_errno;
}

}  // namespace

LogHandler SetLogHandler(LogHandler handler) {
  return installed_handler.exchange(handler);
}

void LogMessage(LogSeverity severity, const char* file, int line,
                absl::string_view message) {
  const LogHandler handler = installed_handler.load();
  (handler != nullptr ? handler : LogToStderr)(severity, file, line, message);
}

std::string FormatLogLine(LogSeverity severity, const char* file, int line,
                          absl::string_view message) {
  absl::string_view base(file);
  if (const size_t slash = base.rfind('/'); slash != base.npos) {
    base.remove_prefix(slash + 1);
  }
  return absl::StrCat("swift ", std::string(1, SeverityLetter(severity)), " ",
                      base, ":", line, "] ", message);
}

}  // namespace swift
