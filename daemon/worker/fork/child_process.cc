// RunInChild() implementation; see child_process.h.
#include "daemon/worker/fork/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace swift {
namespace {

// Writes all of `data` to `fd` (the child's end of the pipe).
void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    done += static_cast<size_t>(n);
  }
}

// The report the child sends: "<status code>\n<value or message>".
std::string EncodeResult(const absl::StatusOr<std::string>& result) {
  if (result.ok()) {
    return absl::StrCat("0\n", *result);
  }
  return absl::StrCat(static_cast<int>(result.status().code()), "\n",
                      result.status().message());
}

absl::StatusOr<std::string> DecodeResult(const std::string& report) {
  const size_t newline = report.find('\n');
  int code = 0;
  if (newline == std::string::npos ||
      !absl::SimpleAtoi(report.substr(0, newline), &code)) {
    return absl::InternalError(
        absl::StrCat("child sent a malformed report: '", report, "'"));
  }
  std::string rest = report.substr(newline + 1);
  if (code == 0) {
    return rest;
  }
  return absl::Status(static_cast<absl::StatusCode>(code),
                      absl::StrCat("in the child: ", rest));
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return absl::StrCat("exit code ", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return absl::StrCat("signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("wait status ", status);
}

}  // namespace

absl::StatusOr<std::string> RunInChild(
    const std::function<absl::StatusOr<std::string>()>& body,
    absl::Duration timeout) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "pipe2");
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = fork();
  if (pid < 0) {
    return ErrnoStatus(errno, "fork");
  }
  if (pid == 0) {
    read_end.Reset();
    const absl::StatusOr<std::string> result = body();
    WriteAll(write_end.get(), EncodeResult(result));
    // No destructors, no atexit handlers, no stdio flush: see the header.
    _exit(result.ok() ? 0 : 1);
  }
  write_end.Reset();

  const absl::Time deadline = absl::Now() + timeout;
  std::string report;
  bool timed_out = false;
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      timed_out = true;
      break;
    }
    pollfd readable = {read_end.get(), POLLIN, 0};
    const int ready = poll(
        &readable, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      continue;  // Timed out: the loop head decides.
    }
    char chunk[4096];
    const ssize_t got = read(read_end.get(), chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;  // EOF: the child is exiting (or has closed the pipe).
    }
    report.append(chunk, static_cast<size_t>(got));
  }

  // Reap the child, killing it if it overstays the deadline.
  if (timed_out) {
    kill(pid, SIGKILL);
  }
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, timed_out ? 0 : WNOHANG);
    if (done == pid) {
      break;
    }
    if (done < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus(errno, absl::StrCat("waitpid(", pid, ")"));
    }
    if (absl::Now() >= deadline) {  // Still running past the deadline.
      timed_out = true;
      kill(pid, SIGKILL);
    } else {
      usleep(1000);
    }
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("child ", pid, " did not finish within ",
                     absl::FormatDuration(timeout), "; killed"));
  }
  if (report.empty()) {
    return absl::InternalError(
        absl::StrCat("child ", pid,
                     " died without reporting: ", DescribeWaitStatus(status)));
  }
  return DecodeResult(report);
}

}  // namespace swift
