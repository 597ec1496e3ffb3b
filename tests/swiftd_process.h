// SwiftdProcess: the swiftd binary started as a separate process for a
// test, the way systemd or an operator starts it (flags, environment,
// resource limits), and killed (SIGKILL) and reaped if the test did not
// stop it. Needs `data = ["//daemon:swiftd"]` in the test's rule.
#ifndef SWIFT_TESTS_SWIFTD_PROCESS_H_
#define SWIFT_TESTS_SWIFTD_PROCESS_H_

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/test_swiftd.h"

namespace swift::testing {

class SwiftdProcess {
 public:
  struct Options {
    std::string socket;
    std::string log;  // swiftd's stderr.
    std::vector<std::string> flags;
    // $NOTIFY_SOCKET, as systemd sets it for a Type=notify unit.
    std::string notify_socket;
    // RLIMIT_NOFILE (soft and hard) set before exec.
    std::optional<rlim_t> fd_limit;
  };

  explicit SwiftdProcess(const Options& options) {
    const std::string binary = RunfilePath("daemon/swiftd");
    // No config file unless the test names one: the host's
    // /etc/swift/swiftd.conf is the operator's, not the test's.
    std::vector<std::string> args = {binary, "--socket=" + options.socket,
                                     "--config="};
    args.insert(args.end(), options.flags.begin(), options.flags.end());
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      if (!options.notify_socket.empty()) {
        setenv("NOTIFY_SOCKET", options.notify_socket.c_str(), 1);
      }
      if (options.fd_limit.has_value()) {
        const rlimit limit = {*options.fd_limit, *options.fd_limit};
        setrlimit(RLIMIT_NOFILE, &limit);
      }
      freopen(options.log.c_str(), "w", stderr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
  }
  // The common case: a socket, systemd's notify socket, a log and flags.
  SwiftdProcess(const std::string& socket, const std::string& notify_socket,
                const std::string& log,
                const std::vector<std::string>& flags = {})
      : SwiftdProcess(Options{socket, log, flags, notify_socket, {}}) {}
  SwiftdProcess(const SwiftdProcess&) = delete;
  SwiftdProcess& operator=(const SwiftdProcess&) = delete;
  ~SwiftdProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void Signal(int signal_number) { kill(pid_, signal_number); }
  pid_t pid() const { return pid_; }

  // Sends `signal_number` and returns the exit status (-1 if killed).
  int StopWith(int signal_number) {
    Signal(signal_number);
    return Wait();
  }

  // Waits for the end; the exit status, or -1 when a signal ended it.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Waits up to `limit` for the process to end; false if it still runs.
  bool WaitFor(absl::Duration limit) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // Whether the process still runs.
  bool Alive() const {
    return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_SWIFTD_PROCESS_H_
