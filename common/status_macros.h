// Propagation macros for absl::Status and absl::StatusOr.
//
// Abseil 20220623 (Debian's) has no status macros of its own, so Swift
// provides the two it needs. They are the only macros in Swift besides
// include guards and those of glog, gtest and the thread annotations.
#ifndef SWIFT_COMMON_STATUS_MACROS_H_
#define SWIFT_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// SWIFT_RETURN_IF_ERROR(expr): evaluates `expr` (an absl::Status) and returns
// it from the enclosing function unless it is OK.
#define SWIFT_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status swift_status_ = (expr);         \
    if (!swift_status_.ok()) return swift_status_; \
  } while (false)

#define SWIFT_STATUS_CONCAT_INNER_(a, b) a##b
#define SWIFT_STATUS_CONCAT_(a, b) SWIFT_STATUS_CONCAT_INNER_(a, b)

// SWIFT_ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (an absl::StatusOr<T>);
// on error returns its status, otherwise moves the value into `lhs`, which
// may be a declaration (`auto ctx`) or an existing variable.
#define SWIFT_ASSIGN_OR_RETURN(lhs, expr) \
  SWIFT_ASSIGN_OR_RETURN_IMPL_(           \
      SWIFT_STATUS_CONCAT_(swift_statusor_, __LINE__), lhs, expr)

#define SWIFT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)  \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // SWIFT_COMMON_STATUS_MACROS_H_
