// FaultClientProcess: tests/fault_client (a libswift application that
// announces each stage of a connect or an invocation) run as a child
// process of a fault test, so that the test can SIGKILL it at exactly the
// stage it wants: the client prints "STAGE <name>" on stdout and, at the
// stages it pauses at, waits for a line on stdin before going on.
//
// Killed (SIGKILL) and reaped on destruction if still running. Not
// thread-safe: used from the test's thread.
#ifndef SWIFT_TESTS_FAULT_CLIENT_PROCESS_H_
#define SWIFT_TESTS_FAULT_CLIENT_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/unique_fd.h"

namespace swift::testing {

class FaultClientProcess {
 public:
  // Starts tests/fault_client (from the test's runfiles; needs
  // `data = [":fault_client"]`) with `flags`; its stderr is the test's.
  explicit FaultClientProcess(const std::vector<std::string>& flags);
  FaultClientProcess(const FaultClientProcess&) = delete;
  FaultClientProcess& operator=(const FaultClientProcess&) = delete;
  ~FaultClientProcess();

  // Reads the client's output until a line starting with `prefix`; that
  // line, or "" when the client ended or `limit` passed first.
  std::string WaitForLine(const std::string& prefix,
                          absl::Duration limit = absl::Seconds(60));

  // WaitForLine("STAGE " + stage) found it.
  bool WaitForStage(const std::string& stage,
                    absl::Duration limit = absl::Seconds(60)) {
    return !WaitForLine("STAGE " + stage, limit).empty();
  }

  // Lets a paused client go on to its next stage.
  void Continue();

  // SIGKILL, then reaps it.
  void Kill();

  // Waits up to `limit` for the client to end on its own: its exit
  // status, -1 when a signal ended it, -2 when it still ran (then killed).
  int Wait(absl::Duration limit = absl::Seconds(60));

  pid_t pid() const { return pid_; }
  // Everything the client printed so far, for failure messages.
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  UniqueFd to_client_;
  UniqueFd from_client_;
  std::string output_;
  // Output not yet returned by WaitForLine().
  std::string unread_;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_FAULT_CLIENT_PROCESS_H_
