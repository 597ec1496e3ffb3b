// ConnectionServer implementation; see connection_server.h.
#include "common/connection_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/nonblocking.h"
#include "common/thread_name.h"

namespace swift {
namespace {

// accept4() failures that name a connection that died in the backlog, or
// a network error on it (accept(2): "treat them like EAGAIN by retrying"):
// the next accept may well succeed, so they are retried at once.
bool RetryAtOnce(int error_number) {
  switch (error_number) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

constexpr absl::string_view kShortOfFds = "swiftd is short of file descriptors";

// Out of descriptors or kernel memory: accept() fails at once until
// something is freed, with the connection still pending.
bool OutOfResources(int error_number) {
  return error_number == EMFILE || error_number == ENFILE ||
         error_number == ENOBUFS || error_number == ENOMEM;
}

}  // namespace

ConnectionServer::ConnectionServer(int listen_fd, Options options,
                                   ServeFunction serve, RefuseFunction refuse)
    : listen_fd_(listen_fd),
      options_(std::move(options)),
      serve_(std::move(serve)),
      refuse_(std::move(refuse)) {}

std::unique_ptr<ConnectionServer> ConnectionServer::Start(
    int listen_fd, Options options, ServeFunction serve,
    RefuseFunction refuse) {
  std::unique_ptr<ConnectionServer> server(new ConnectionServer(
      listen_fd, std::move(options), std::move(serve), std::move(refuse)));
  server->accept_thread_ =
      std::thread([raw = server.get()] { raw->AcceptLoop(); });
  return server;
}

ConnectionServer::~ConnectionServer() { Shutdown(); }

bool ConnectionServer::NoteAcceptError(int error_number, absl::Time now) {
  if (error_number == EINTR) {
    return false;
  }
  ++counters_.accept_errors;
  const bool out_of_resources = OutOfResources(error_number);
  if (out_of_resources) {
    ++counters_.resource_errors;
  }
  ++unlogged_errors_;
  if (now - last_log_ >= options_.log_interval) {
    SWIFT_LOG(Warning, options_.name,
              " accept: ", ErrnoStatus(error_number, "accept4").ToString(),
              " (", unlogged_errors_, " failed accept(s) since the last report",
              out_of_resources ? "; backing off until fds free up)" : ")");
    last_log_ = now;
    unlogged_errors_ = 0;
    ++counters_.error_logs;
  }
  return !RetryAtOnce(error_number);
}

void ConnectionServer::AcceptLoop() {
  if (!options_.thread_name.empty()) {
    NameThisThread(absl::StrCat(options_.thread_name, "-accept"));
  }
  absl::Duration backoff = options_.min_backoff;
  while (true) {
    if (const absl::Duration wait = CloseLingering(absl::Now());
        wait != absl::InfiniteDuration()) {
      // Wakes for the next refused connection to close, or for a new one
      // (Shutdown() makes the listener readable too).
      pollfd listener = {listen_fd_, POLLIN, 0};
      const int ms = static_cast<int>(
          absl::ToInt64Milliseconds(wait + absl::Microseconds(999)));
      if (poll(&listener, 1, ms) == 0) {
        continue;
      }
    }
    UniqueFd connection(accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
    const int error_number = connection.valid() ? 0 : errno;
    // Measured outside the lock: counting fds reads /proc.
    Admission admission;
    if (connection.valid()) {
      if (options_.key) {
        admission.key = options_.key(connection.get());
      }
      if (options_.fd_reserve > 0) {
        admission.free_fds = FreeFds();
      }
    }
    absl::Status refusal;
    {
      absl::MutexLock lock(&mu_);
      ++counters_.accept_calls;
      if (stopping_) {
        return;  // A connection accepted now is closed unanswered.
      }
      if (!connection.valid()) {
        if (NoteAcceptError(error_number, absl::Now())) {
          // Woken early by Shutdown().
          mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
          backoff = std::min(backoff * 2, options_.max_backoff);
        }
        continue;
      }
      backoff = options_.min_backoff;
      refusal = Admit(connection, admission);
      if (!refusal.ok()) {
        NoteRefusal(refusal, absl::Now());
      }
    }
    if (!refusal.ok()) {
      Refuse(std::move(connection), refusal);
    }
  }
}

absl::Status ConnectionServer::Admit(UniqueFd& connection,
                                     const Admission& admission) {
  const size_t open = connections_.size();
  if (options_.max_connections > 0 &&
      open >= static_cast<size_t>(options_.max_connections)) {
    ++counters_.refused_at_cap;
    return absl::ResourceExhaustedError(
        absl::StrCat(options_.name, ": ", open, " connections open, the most ",
                     options_.max_connections_setting, " allows"));
  }
  if (admission.key.has_value() && options_.max_connections_per_key > 0) {
    const auto it = per_key_.find(*admission.key);
    const int of_key = it == per_key_.end() ? 0 : it->second;
    if (of_key >= options_.max_connections_per_key) {
      ++counters_.refused_at_key_cap;
      return absl::ResourceExhaustedError(absl::StrCat(
          options_.name, ": ", options_.key_name, " ", *admission.key, " has ",
          of_key, " connections open, the most ",
          options_.max_connections_per_key_setting, " allows"));
    }
  }
  if (admission.free_fds < options_.fd_reserve) {
    ++counters_.refused_for_fds;
    return absl::ResourceExhaustedError(
        absl::StrCat(options_.name, ": ", kShortOfFds, " (",
                     std::max<int64_t>(admission.free_fds, 0), " free; ",
                     options_.fd_reserve, " are kept for its other services)"));
  }
  const uint64_t id = next_connection_id_;
  const int fd = connection.get();
  const std::optional<uint64_t> key = admission.key;
  // The thread needs mu_ to announce its end, so it cannot end before
  // these entries exist.
  try {
    std::function<void()> body = [this, fd, id, key] {
      Serve(UniqueFd(fd), id, key);
    };
    if (options_.start_thread) {
      options_.start_thread(std::move(body));
    } else {
      std::thread(std::move(body)).detach();
    }
  } catch (const std::system_error& error) {
    // Under a pids limit (systemd's TasksMax) or out of memory: refuse
    // this one and live on; an uncaught exception would abort swiftd.
    ++counters_.thread_failures;
    return absl::ResourceExhaustedError(
        absl::StrCat(options_.name,
                     ": swiftd cannot start a thread for the "
                     "connection: ",
                     error.what()));
  }
  connection.Release();  // The thread owns it now.
  ++next_connection_id_;
  ++counters_.accepted;
  connections_[id] = fd;
  if (key.has_value()) {
    ++per_key_[*key];
  }
  ++running_;
  return absl::OkStatus();
}

void ConnectionServer::NoteRefusal(const absl::Status& why, absl::Time now) {
  ++unlogged_refusals_;
  if (now - last_refusal_log_ >= options_.log_interval) {
    SWIFT_LOG(
        Warning, options_.name, ": refused ", unlogged_refusals_,
        " connection(s) since the last report; the last: ", why.message());
    last_refusal_log_ = now;
    unlogged_refusals_ = 0;
    ++counters_.refusal_logs;
  }
}

void ConnectionServer::Refuse(UniqueFd connection, const absl::Status& why) {
  // The accept thread must never wait on a peer.
  if (!SetNonBlocking(connection.get(), "a refused connection").ok()) {
    return;  // Closed unanswered.
  }
  if (refuse_) {
    refuse_(connection.get(), why);
  }
  // Short of descriptors, none is kept a moment longer.
  if (lingering_.size() < kMaxLingering &&
      options_.refusal_linger > absl::ZeroDuration() &&
      !absl::StrContains(why.message(), kShortOfFds)) {
    lingering_.push_back(
        {std::move(connection), absl::Now() + options_.refusal_linger});
  }
}

absl::Duration ConnectionServer::CloseLingering(absl::Time now) {
  while (!lingering_.empty() && lingering_.front().until <= now) {
    lingering_.pop_front();
  }
  return lingering_.empty() ? absl::InfiniteDuration()
                            : lingering_.front().until - now;
}

void ConnectionServer::Serve(UniqueFd connection, uint64_t connection_id,
                             std::optional<uint64_t> key) {
  if (!options_.thread_name.empty()) {
    NameThisThread(options_.thread_name);
  }
  serve_(std::move(connection), connection_id);
  absl::MutexLock lock(&mu_);
  connections_.erase(connection_id);
  if (key.has_value()) {
    const auto it = per_key_.find(*key);
    if (it != per_key_.end() && --it->second <= 0) {
      per_key_.erase(it);
    }
  }
  --running_;
}

void ConnectionServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    for (const auto& [id, fd] : connections_) {
      // Wakes the connection's blocked read; its thread closes the fd.
      shutdown(fd, SHUT_RDWR);
    }
  }
  shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) {
    accept_thread_.join();
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* running) { return *running == 0; }, &running_));
}

int ConnectionServer::connection_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(connections_.size());
}

ConnectionServer::Counters ConnectionServer::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

}  // namespace swift
