#include "common/errno_status.h"

#include <cerrno>

#include "common/status_macros.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(ErrnoStatusTest, MapsErrnoToSwiftCodes) {
  EXPECT_EQ(ErrnoToCode(EACCES), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToCode(EPERM), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToCode(EOPNOTSUPP), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ErrnoToCode(ENOMEM), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToCode(EINVAL), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrnoToCode(EBUSY), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrnoToCode(EROFS), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrnoToCode(ENODEV), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToCode(ECONNREFUSED), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToCode(ETIMEDOUT), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrnoToCode(EIO), absl::StatusCode::kInternal);
}

TEST(ErrnoStatusTest, MessageNamesTheCallAndTheReason) {
  absl::Status status = ErrnoStatus(EBUSY, "ibv_dealloc_pd(rxe0)");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "ibv_dealloc_pd(rxe0): Device or resource busy");
}

TEST(ErrnoStatusTest, ZeroErrnoIsNeverOk) {
  absl::Status status = ErrnoStatus(0, "ibv_open_device(rxe0)");
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
}

absl::StatusOr<int> Half(int value) {
  if (value % 2 != 0) {
    return absl::InvalidArgumentError("odd");
  }
  return value / 2;
}

absl::Status QuarterInto(int value, int& out) {
  SWIFT_ASSIGN_OR_RETURN(int half, Half(value));
  SWIFT_ASSIGN_OR_RETURN(out, Half(half));
  SWIFT_RETURN_IF_ERROR(absl::OkStatus());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PropagateErrorsAndAssignValues) {
  int out = 0;
  EXPECT_TRUE(QuarterInto(8, out).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(QuarterInto(6, out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out, 2);
}

}  // namespace
}  // namespace swift
