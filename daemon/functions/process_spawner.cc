// SpawnProcess(); see process_spawner.h.
#include "daemon/functions/process_spawner.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace swift {
namespace {

// What failed in the child before its exec, as it writes it on the
// exec-report pipe.
struct ExecReport {
  enum Stage : int { kIdentity = 1, kLimits = 2, kExec = 3 };
  int stage = 0;
  int error = 0;
};

// The child, from fork to exec: only async-signal-safe calls.
[[noreturn]] void RunChild(const SpawnCommand& command, char* const* argv,
                           int report_fd) {
  setpgid(0, 0);
  if (command.inherited_fd >= 0) {
    fcntl(command.inherited_fd, F_SETFD, 0);
  }
  if (!command.cpus.empty()) {
    // A raw system call: async-signal-safe.
    sched_setaffinity(0, sizeof(cpu_set_t), &command.cpus.native());
  }
  if (command.unlimited_memlock) {
    const rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_MEMLOCK, &unlimited);  // Best effort (see the header).
  }
  ExecReport report;
  const rlimit memory = {command.memory_limit_bytes,
                         command.memory_limit_bytes};
  if (command.memory_limit_bytes > 0 && setrlimit(RLIMIT_AS, &memory) != 0) {
    report = {ExecReport::kLimits, errno};
  } else if (!ApplyTenantIdentity(command.identity)) {
    report = {ExecReport::kIdentity, errno};
  } else {
    execv(argv[0], argv);
    report = {ExecReport::kExec, errno};
  }
  (void)!write(report_fd, &report, sizeof(report));
  _exit(127);
}

// The error the child reported.
absl::Status ReportedError(const SpawnCommand& command,
                           const ExecReport& report) {
  const std::string& name =
      command.name.empty() ? command.argv[0] : command.name;
  const TenantIdentity& identity = command.identity;
  switch (report.stage) {
    case ExecReport::kIdentity:
      return absl::PermissionDeniedError(
          absl::StrCat("could not switch ", name, " to uid ", identity.uid,
                       " gid ", identity.gid, ": ", strerror(report.error)));
    case ExecReport::kLimits:
      return ErrnoStatus(report.error, absl::StrCat("setrlimit(RLIMIT_AS, ",
                                                    command.memory_limit_bytes,
                                                    ") for ", name));
    default:
      return absl::FailedPreconditionError(absl::StrCat(
          "could not execute ", name,
          identity.switch_user ? absl::StrCat(" as uid ", identity.uid)
                               : std::string(),
          ": ", strerror(report.error),
          report.error == ENOMEM ? command.out_of_memory_hint : std::string()));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<OwnedProcess>> SpawnProcess(
    const SpawnCommand& command) {
  if (command.argv.empty() || command.argv[0].empty()) {
    return absl::InvalidArgumentError("no program to spawn");
  }
  // Built before fork: the child may not allocate.
  std::vector<std::string> args = command.argv;
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  int report_pipe[2];
  if (pipe2(report_pipe, O_CLOEXEC) != 0) {
    return ErrnoStatus(errno, absl::StrCat("pipe2 to spawn ", args[0]));
  }
  UniqueFd report_read(report_pipe[0]);
  UniqueFd report_write(report_pipe[1]);
  const pid_t pid = fork();
  if (pid < 0) {
    return ErrnoStatus(errno, absl::StrCat("fork to spawn ", args[0]));
  }
  if (pid == 0) {
    RunChild(command, argv.data(), report_write.get());
  }
  // As the child does: whichever runs first, the group exists before a
  // Kill() can target it.
  setpgid(pid, pid);
  auto process = std::make_unique<OwnedProcess>(pid);
  report_write.Reset();
  ExecReport report;
  ssize_t got;
  do {
    got = read(report_read.get(), &report, sizeof(report));
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof(report))) {
    process->Wait();  // It has _exit()ed: reaped now, not at some later point.
    return ReportedError(command, report);
  }
  return process;  // EOF: exec closed the pipe.
}

}  // namespace swift
