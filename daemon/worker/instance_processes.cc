// InstanceProcesses implementation; see instance_processes.h.
#include "daemon/worker/instance_processes.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swift {

std::string DescribeExit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(wait_status), " (",
                        strsignal(WTERMSIG(wait_status)), ")");
  }
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  }
  return "ended";
}

InstanceProcesses::~InstanceProcesses() {
  for (auto& [id, child] : children_) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
  }
  // Every child is gone: their sockets and sets close as the map goes.
}

absl::StatusOr<uint64_t> InstanceProcesses::Fork(
    ConnectionSet& set, const std::vector<int>& close_in_child,
    const Body& body) {
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> pair =
      SeqpacketSocket::Pair();
  if (!pair.ok()) {
    return pair.status();
  }
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    // Only the child's own socket stays open in the child, so that swiftd
    // and the worker see EOF when the process they talk to dies. (Closed
    // by number: the owners are the parent's, and no destructor runs here.)
    for (int fd : close_in_child) {
      ::close(fd);
    }
    for (const auto& [id, other] : children_) {
      ::close(other.socket.fd());
    }
    ::close(pair->first.fd());
    body(std::move(pair->second), set);
    _exit(0);
  }
  ++forks_;
  const uint64_t id = next_id_++;
  children_.emplace(id, Child{pid, std::move(pair->first), std::move(set)});
  set.clear();
  return id;
}

absl::Status InstanceProcesses::Send(uint64_t id, absl::string_view message,
                                     const std::vector<int>& fds) {
  auto it = children_.find(id);
  if (it == children_.end()) {
    return absl::UnavailableError("the instance is gone");
  }
  return it->second.socket.Send(message, fds);
}

absl::StatusOr<SeqpacketSocket::Message> InstanceProcesses::Receive(
    uint64_t id) {
  auto it = children_.find(id);
  if (it == children_.end()) {
    return absl::UnavailableError("the instance is gone");
  }
  return it->second.socket.Receive();
}

void InstanceProcesses::Kill(uint64_t id) {
  auto it = children_.find(id);
  if (it != children_.end()) {
    kill(it->second.pid, SIGKILL);
  }
}

InstanceProcesses::Ended InstanceProcesses::Reap(uint64_t id) {
  Ended ended;
  auto it = children_.find(id);
  if (it == children_.end()) {
    return ended;
  }
  ended.pid = it->second.pid;
  kill(ended.pid, SIGKILL);
  waitpid(ended.pid, &ended.wait_status, 0);
  ended.connections = std::move(it->second.connections);
  children_.erase(it);
  return ended;
}

pid_t InstanceProcesses::pid(uint64_t id) const {
  auto it = children_.find(id);
  return it == children_.end() ? -1 : it->second.pid;
}

std::vector<std::pair<uint64_t, int>> InstanceProcesses::Fds() const {
  std::vector<std::pair<uint64_t, int>> fds;
  fds.reserve(children_.size());
  for (const auto& [id, child] : children_) {
    fds.emplace_back(id, child.socket.fd());
  }
  return fds;
}

}  // namespace swift
