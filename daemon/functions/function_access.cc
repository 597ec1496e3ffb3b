// Function access policy; see function_access.h.
#include "daemon/functions/function_access.h"

#include "absl/strings/str_cat.h"

namespace swift {

absl::Status AuthorizeRegistration(const CallerCredentials& caller,
                                   v1::RegisterFunctionRequest& request) {
  if (caller.uid == 0) {
    return absl::OkStatus();  // Root chooses; uid 0 runs as root.
  }
  if (request.uid() == 0 && request.run_as_set()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "uid ", caller.uid,
        " may only register functions that run as itself, not as root "
        "(uid 0); only root may choose"));
  }
  if (request.uid() == 0) {
    request.set_uid(caller.uid);
  }
  if (request.gid() == 0) {
    request.set_gid(caller.gid);
  }
  if (request.uid() != caller.uid || request.gid() != caller.gid) {
    return absl::PermissionDeniedError(absl::StrCat(
        "uid ", caller.uid,
        " may only register functions that run as "
        "itself (uid ",
        caller.uid, " gid ", caller.gid, "), not as uid ", request.uid(),
        " gid ", request.gid(), "; only root may choose"));
  }
  return absl::OkStatus();
}

namespace {

// Root and the function's own user may `action` it; nobody else.
absl::Status AuthorizeOwnerOrRoot(const CallerCredentials& caller,
                                  const v1::RegisterFunctionRequest& registered,
                                  absl::string_view action) {
  if (caller.uid == 0 || caller.uid == registered.uid()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("function '", registered.name(), "' runs as uid ",
                   registered.uid(), "; only that user or root may ", action,
                   " it (you are uid ", caller.uid, ")"));
}

}  // namespace

absl::Status AuthorizeUnregistration(
    const CallerCredentials& caller,
    const v1::RegisterFunctionRequest& registered) {
  return AuthorizeOwnerOrRoot(caller, registered, "unregister");
}

absl::Status AuthorizeInvocation(
    const CallerCredentials& caller,
    const v1::RegisterFunctionRequest& registered) {
  return AuthorizeOwnerOrRoot(caller, registered, "invoke");
}

}  // namespace swift
