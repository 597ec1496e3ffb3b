// FaultClientProcess implementation; see fault_client_process.h.
#include "tests/fault_client_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "tests/test_swiftd.h"

namespace swift::testing {

FaultClientProcess::FaultClientProcess(const std::vector<std::string>& flags) {
  const std::string binary = Absolute(RunfilePath("tests/fault_client"));
  std::vector<std::string> args = {binary};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  int to_child[2];
  int from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return;
  }
  pid_ = fork();
  if (pid_ == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  to_client_.Reset(to_child[1]);
  from_client_.Reset(from_child[0]);
  // A client killed while the test writes must not kill the test.
  signal(SIGPIPE, SIG_IGN);
}

FaultClientProcess::~FaultClientProcess() {
  if (pid_ > 0) {
    Kill();
  }
}

std::string FaultClientProcess::WaitForLine(const std::string& prefix,
                                            absl::Duration limit) {
  const absl::Time deadline = absl::Now() + limit;
  while (true) {
    size_t start = 0;
    for (size_t end = unread_.find('\n'); end != std::string::npos;
         end = unread_.find('\n', start)) {
      std::string line = unread_.substr(start, end - start);
      start = end + 1;
      if (line.rfind(prefix, 0) == 0) {
        unread_.erase(0, start);
        return line;
      }
    }
    unread_.erase(0, start);
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() || !from_client_.valid()) {
      return "";
    }
    pollfd ready = {from_client_.get(), POLLIN, 0};
    if (poll(&ready, 1,
             static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) {
      continue;
    }
    char buffer[4096];
    const ssize_t got = read(from_client_.get(), buffer, sizeof(buffer));
    if (got <= 0) {
      from_client_.Reset();  // The client ended.
      continue;
    }
    output_.append(buffer, static_cast<size_t>(got));
    unread_.append(buffer, static_cast<size_t>(got));
  }
}

void FaultClientProcess::Continue() {
  if (to_client_.valid()) {
    (void)!write(to_client_.get(), "\n", 1);
  }
}

void FaultClientProcess::Kill() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

int FaultClientProcess::Wait(absl::Duration limit) {
  if (pid_ <= 0) {
    return -1;
  }
  const absl::Time deadline = absl::Now() + limit;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      Kill();
      return -2;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace swift::testing
