// CheckFunctionLibrary(); see function_library.h.
#include "daemon/functions/function_library.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "daemon/functions/owned_process.h"
#include "daemon/functions/trusted_path.h"

namespace swift {
namespace {

// How the opening child ends: its exit status.
enum OpenOutcome : int {
  kReadable = 0,
  kUnreadable = 1,  // Missing or not readable: one answer for both.
  kNotRegular = 2,
  kNoIdentity = 3,
};

// An opening child that has not ended after this is killed (a hung file
// system): the registration fails instead of hanging.
constexpr absl::Duration kOpenTimeout = absl::Seconds(10);

// Opens `path` for reading as swiftd's process currently is (the child
// after switching, or swiftd itself when the worker runs as swiftd).
// Async-signal-safe.
OpenOutcome OpenAsSelf(const char* path) {
  // O_NONBLOCK: a FIFO must not block the open.
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return kUnreadable;
  }
  struct stat info;
  const bool regular = fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  close(fd);
  return regular ? kReadable : kNotRegular;
}

// OpenAsSelf() in a child that became `identity` first.
absl::StatusOr<OpenOutcome> OpenAsTenant(const TenantIdentity& identity,
                                         const std::string& path) {
  const pid_t pid = fork();
  if (pid < 0) {
    return ErrnoStatus(errno, "fork to check the function library");
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here: swiftd is multi-threaded.
    setpgid(0, 0);
    _exit(ApplyTenantIdentity(identity) ? OpenAsSelf(path.c_str())
                                        : kNoIdentity);
  }
  setpgid(pid, pid);        // As the child does, whichever runs first.
  OwnedProcess child(pid);  // Killed and reaped on every return.
  const std::optional<int> status = child.WaitFor(kOpenTimeout);
  if (!status.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "opening the function library ", path, " as uid ", identity.uid,
        " took longer than ", absl::FormatDuration(kOpenTimeout)));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) > kNoIdentity) {
    return absl::InternalError(
        absl::StrCat("the check of the function library ", path,
                     " ended abnormally (wait status ", *status, ")"));
  }
  return static_cast<OpenOutcome>(WEXITSTATUS(*status));
}

}  // namespace

absl::Status CheckFunctionLibrary(const TenantIdentity& identity,
                                  const std::string& library_path) {
  if (library_path.empty() || library_path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("the function library must be an absolute path, got '",
                     library_path, "'"));
  }
  // The worker's user, as messages name it.
  const uid_t uid = identity.switch_user ? identity.uid : geteuid();
  OpenOutcome outcome = kReadable;
  if (identity.switch_user) {
    SWIFT_ASSIGN_OR_RETURN(outcome, OpenAsTenant(identity, library_path));
  } else {
    outcome = OpenAsSelf(library_path.c_str());
  }
  switch (outcome) {
    case kReadable:
      break;
    case kUnreadable:
      // Deliberately says nothing about why: whether the file exists is
      // not for a tenant who may not look.
      return absl::NotFoundError(
          absl::StrCat("no readable function library at ", library_path,
                       " for uid ", uid, ", which the function runs as"));
    case kNotRegular:
      return absl::FailedPreconditionError(absl::StrCat(
          "the function library ", library_path, " is not a regular file"));
    case kNoIdentity:
      return absl::PermissionDeniedError(absl::StrCat(
          "could not switch to uid ", identity.uid, " gid ", identity.gid,
          " to check the function library ", library_path));
  }
  // The tenant may open it, so it may see every directory on the way:
  // what this says about them tells it nothing new.
  std::vector<uid_t> trusted = {0, geteuid()};
  if (identity.switch_user) {
    trusted.push_back(identity.uid);
  }
  absl::StatusOr<TrustedPath> resolved =
      ResolveTrustedPath(library_path, trusted);
  if (!resolved.ok()) {
    return absl::Status(resolved.status().code(),
                        absl::StrCat("the function library ", library_path,
                                     " would run as uid ", uid, ": ",
                                     resolved.status().message()));
  }
  if (!S_ISREG(resolved->info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the function library ", library_path, " is not a regular file"));
  }
  return absl::OkStatus();
}

}  // namespace swift
