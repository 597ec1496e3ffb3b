// Tests of the function access policy (function_access.h).
#include "daemon/functions/function_access.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

v1::RegisterFunctionRequest AsUser(uint32_t uid, uint32_t gid) {
  v1::RegisterFunctionRequest request;
  request.set_name("f");
  request.set_uid(uid);
  request.set_gid(gid);
  return request;
}

TEST(FunctionAccessTest, RootMayRunAFunctionAsAnyone) {
  v1::RegisterFunctionRequest request = AsUser(65534, 0);
  ASSERT_TRUE(AuthorizeRegistration({0, 0}, request).ok());
  EXPECT_EQ(request.uid(), 65534u);
  EXPECT_EQ(request.gid(), 0u);  // Resolved later: the user's primary group.

  v1::RegisterFunctionRequest as_root = AsUser(0, 0);
  ASSERT_TRUE(AuthorizeRegistration({0, 0}, as_root).ok());
  EXPECT_EQ(as_root.uid(), 0u);
}

TEST(FunctionAccessTest, AUserRunsItsFunctionsAsItself) {
  v1::RegisterFunctionRequest request = AsUser(0, 0);
  ASSERT_TRUE(AuthorizeRegistration({1000, 100}, request).ok());
  EXPECT_EQ(request.uid(), 1000u);
  EXPECT_EQ(request.gid(), 100u);

  v1::RegisterFunctionRequest explicit_self = AsUser(1000, 100);
  EXPECT_TRUE(AuthorizeRegistration({1000, 100}, explicit_self).ok());
}

TEST(FunctionAccessTest, AUserMayNotChooseAnotherUserOrGroup) {
  v1::RegisterFunctionRequest other_user = AsUser(1001, 0);
  absl::Status status = AuthorizeRegistration({1000, 100}, other_user);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(status.message(), "uid 1001")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "only root")) << status;

  // Not root's group (or any other) either.
  v1::RegisterFunctionRequest other_group = AsUser(1000, 27);
  EXPECT_EQ(AuthorizeRegistration({1000, 100}, other_group).code(),
            absl::StatusCode::kPermissionDenied);
}

// Issue 10, finding 8: `--user=root` from an unprivileged caller was
// silently rewritten to the caller's own uid instead of refused.
TEST(FunctionAccessTest, AnExplicitRootRequestFromAUserIsRefused) {
  v1::RegisterFunctionRequest as_root = AsUser(0, 0);
  as_root.set_run_as_set(true);
  absl::Status status = AuthorizeRegistration({1000, 100}, as_root);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "not as root")) << status;
  EXPECT_EQ(as_root.uid(), 0u);  // Not rewritten.

  // Root may ask for root explicitly; a user may name itself.
  v1::RegisterFunctionRequest by_root = AsUser(0, 0);
  by_root.set_run_as_set(true);
  EXPECT_TRUE(AuthorizeRegistration({0, 0}, by_root).ok());
  EXPECT_EQ(by_root.uid(), 0u);
  v1::RegisterFunctionRequest itself = AsUser(1000, 0);
  itself.set_run_as_set(true);
  ASSERT_TRUE(AuthorizeRegistration({1000, 100}, itself).ok());
  EXPECT_EQ(itself.uid(), 1000u);
  EXPECT_EQ(itself.gid(), 100u);
}

TEST(FunctionAccessTest, UnregisteringIsForTheFunctionsUserAndRoot) {
  const v1::RegisterFunctionRequest registered = AsUser(1000, 100);
  EXPECT_TRUE(AuthorizeUnregistration({1000, 100}, registered).ok());
  EXPECT_TRUE(AuthorizeUnregistration({0, 0}, registered).ok());
  absl::Status other = AuthorizeUnregistration({1001, 100}, registered);
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(other.message(), "'f' runs as uid 1000"))
      << other;
}

// Issue 10, finding 2: anyone who reached the socket ran root's function.
TEST(FunctionAccessTest, InvokingIsForTheFunctionsUserAndRoot) {
  const v1::RegisterFunctionRequest roots = AsUser(0, 0);
  EXPECT_TRUE(AuthorizeInvocation({0, 0}, roots).ok());
  absl::Status refused = AuthorizeInvocation({65534, 65534}, roots);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(refused.message(),
                                "only that user or root "
                                "may invoke it"))
      << refused;
  const v1::RegisterFunctionRequest users = AsUser(1000, 100);
  EXPECT_TRUE(AuthorizeInvocation({1000, 100}, users).ok());
  EXPECT_TRUE(AuthorizeInvocation({0, 0}, users).ok());
  EXPECT_EQ(AuthorizeInvocation({1001, 100}, users).code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace swift
