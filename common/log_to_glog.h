// RouteSwiftLogToGlog(): in swiftd and its workers, the messages of common/
// code (SWIFT_LOG, log.h) go to glog with the programs' own, under glog's
// flags and files.
#ifndef SWIFT_COMMON_LOG_TO_GLOG_H_
#define SWIFT_COMMON_LOG_TO_GLOG_H_

namespace swift {

// Call once, early in main() (after InitGoogleLogging()).
void RouteSwiftLogToGlog();

}  // namespace swift

#endif  // SWIFT_COMMON_LOG_TO_GLOG_H_
