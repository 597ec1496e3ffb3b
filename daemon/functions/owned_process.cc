// OwnedProcess implementation; see owned_process.h.
#include "daemon/functions/owned_process.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>

#include "absl/time/clock.h"

namespace swift {

OwnedProcess::~OwnedProcess() {
  Kill();
  Wait();
}

void OwnedProcess::Kill() {
  absl::MutexLock lock(&mu_);
  if (!reaped_) {
    kill(pid_, SIGKILL);
    kill(-pid_, SIGKILL);
  }
}

bool OwnedProcess::Exited(bool block) {
  siginfo_t info = {};
  while (true) {
    // WNOWAIT: the child stays a zombie (its pid ours) until Reap().
    const int waited = waitid(P_PID, static_cast<id_t>(pid_), &info,
                              WEXITED | WNOWAIT | (block ? 0 : WNOHANG));
    if (waited == 0) {
      // Without WNOHANG, or with it and a child that has exited.
      return block || info.si_pid == pid_;
    }
    if (errno != EINTR) {
      return true;  // ECHILD: not ours to wait for any more.
    }
  }
}

int OwnedProcess::Reap() {
  // Under mu_, so that Kill() sees either the child or reaped_.
  absl::MutexLock lock(&mu_);
  if (!reaped_) {
    int status = 0;
    pid_t reaped;
    do {
      reaped = waitpid(pid_, &status, 0);
    } while (reaped < 0 && errno == EINTR);
    status_ = reaped == pid_ ? status : -1;
    reaped_ = true;
  }
  return status_;
}

int OwnedProcess::Wait() {
  absl::MutexLock wait_lock(&wait_mu_);
  if (!reaped()) {
    Exited(/*block=*/true);
  }
  return Reap();
}

std::optional<int> OwnedProcess::WaitFor(absl::Duration timeout) {
  absl::MutexLock wait_lock(&wait_mu_);
  const absl::Time deadline = absl::Now() + timeout;
  while (!reaped() && !Exited(/*block=*/false)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return std::nullopt;
    }
    absl::SleepFor(std::min(left, absl::Milliseconds(10)));
  }
  return Reap();
}

bool OwnedProcess::reaped() const {
  absl::MutexLock lock(&mu_);
  return reaped_;
}

}  // namespace swift
