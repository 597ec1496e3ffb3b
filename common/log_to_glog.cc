// RouteSwiftLogToGlog(); see log_to_glog.h.
#include "common/log_to_glog.h"

#include "common/log.h"
#include "glog/logging.h"

namespace swift {
namespace {

google::LogSeverity GlogSeverity(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kInfo:
      return google::GLOG_INFO;
    case LogSeverity::kWarning:
      return google::GLOG_WARNING;
    case LogSeverity::kError:
      return google::GLOG_ERROR;
  }
  return google::GLOG_ERROR;
}

void ToGlog(LogSeverity severity, const char* file, int line,
            absl::string_view message) {
  google::LogMessage(file, line, GlogSeverity(severity)).stream() << message;
}

}  // namespace

void RouteSwiftLogToGlog() { SetLogHandler(&ToGlog); }

}  // namespace swift
