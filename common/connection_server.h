// ConnectionServer: the thread-per-connection skeleton of Swift's lean
// servers (the fast path on AF_UNIX SOCK_SEQPACKET, the peer link on TCP).
//
// One accept thread takes connections from a listening socket the caller
// owns and runs `serve` for each on a thread of its own: the cheapest
// wake-up a request can get (one thread blocked in recv per connection),
// for servers with few, long-lived clients. The skeleton tracks the live
// connections so that Shutdown() can end them, and waits for their threads.
//
// Bounded (issue 10): anyone who reaches the socket could otherwise make
// swiftd start threads until the kernel's pids limit aborted it. Before a
// thread is started, a new connection is refused (handed to `refuse`, which
// may tell the peer why, then closed) when
//   - max_connections are being served already;
//   - its key (a tenant: the fast path's peer uid) has
//     max_connections_per_key of them;
//   - fewer than fd_reserve descriptors would remain free: they are kept
//     for swiftd's other services (gRPC's listener dies on its first EMFILE);
//   - no thread can be started (std::system_error): the server lives on.
// Refusals are counted and logged once per log_interval. A refused
// connection stays open for refusal_linger after its answer (at most
// kMaxLingering of them, else closed at once): closed at once, a client
// whose request is not sent yet would fail to send it (EPIPE) and never
// read why.
//
// Out of file descriptors (EMFILE/ENFILE) or kernel memory, accept() fails
// at once for as long as the pending connection waits in the backlog: the
// loop then backs off (doubling from min_backoff to max_backoff, reset by
// the next success) and logs once per log_interval, instead of spinning a
// core and flooding the log; it serves again once descriptors are free.
//
// Transport-neutral: knows sockets and threads only (no framing, no
// protobuf; timeouts are the serve function's). Thread-safe: Shutdown() may
// be called from any thread but a connection's own.
#ifndef SWIFT_COMMON_CONNECTION_SERVER_H_
#define SWIFT_COMMON_CONNECTION_SERVER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/fd_limits.h"
#include "common/unique_fd.h"

namespace swift {

class ConnectionServer final {
 public:
  // Runs `body` on a thread of its own and returns without waiting for it.
  // Throws std::system_error, without running `body`, when no thread can
  // be started. A test hook; the default is a detached std::thread.
  using ThreadStarter = std::function<void(std::function<void()> body)>;

  // The key (tenant) a new connection counts against, or nullopt for a
  // connection exempt from the per-key cap. Runs on the accept thread
  // with the connected fd: must not block.
  using KeyFunction = std::function<std::optional<uint64_t>(int fd)>;

  struct Options {
    // Names the server in logs and refusals ("fast path", "peer link").
    std::string name = "connection server";
    // Names its threads (common/thread_name.h): each connection's
    // `thread_name`, the accept loop's `thread_name`-accept. Empty: not
    // named.
    std::string thread_name;
    // The pause after an accept() that failed for want of resources.
    absl::Duration min_backoff = absl::Milliseconds(10);
    absl::Duration max_backoff = absl::Seconds(1);
    // At most one log line per interval about failing accepts, and one
    // about refused connections.
    absl::Duration log_interval = absl::Seconds(10);
    // Connections served at once; 0: no cap. Refusals name the setting
    // (e.g. "--max_fast_path_connections") so that an operator knows what
    // to raise.
    int max_connections = 1024;
    std::string max_connections_setting = "max_connections";
    // Connections per key at once; 0 (or no `key`): no per-key cap.
    KeyFunction key;
    std::string key_name = "key";  // What a key is, for refusals ("uid").
    int max_connections_per_key = 0;
    std::string max_connections_per_key_setting = "max_connections_per_key";
    // Refuse while fewer descriptors than this would remain free; 0: never.
    int fd_reserve = kDefaultFdReserve;
    // How long a refused connection stays open after its answer.
    absl::Duration refusal_linger = absl::Seconds(1);
    // Null: a detached std::thread.
    ThreadStarter start_thread;
  };

  // Serves one connection until it ends; runs on the connection's own
  // thread. `connection_id` counts from 1, unique for the server's life.
  // The function owns `connection` (closing it ends the connection) and
  // must return once a read or write on it fails: Shutdown() shuts the
  // socket down (SHUT_RDWR) and waits for the function to return.
  using ServeFunction =
      std::function<void(UniqueFd connection, uint64_t connection_id)>;

  // Tells the peer of a refused connection why (kResourceExhausted, naming
  // the limit), if its protocol can, and returns at once: it runs on the
  // accept thread, with `connection` non-blocking. The fd stays the
  // skeleton's, which closes it. May be null.
  using RefuseFunction =
      std::function<void(int connection, const absl::Status& why)>;

  // Refused connections kept open at once; more are closed at once.
  static constexpr size_t kMaxLingering = 32;

  // What the accept loop did, for monitoring and tests.
  struct Counters {
    uint64_t accept_calls = 0;     // accept4() calls, failed or not.
    uint64_t accepted = 0;         // Connections handed to `serve`.
    uint64_t accept_errors = 0;    // Failed accept4() calls (not EINTR).
    uint64_t resource_errors = 0;  // Of those, EMFILE/ENFILE/ENOBUFS/ENOMEM.
    uint64_t error_logs = 0;       // Log lines written about them.
    // Connections refused, by reason, and log lines about refusals.
    uint64_t refused_at_cap = 0;
    uint64_t refused_at_key_cap = 0;
    uint64_t refused_for_fds = 0;
    uint64_t thread_failures = 0;
    uint64_t refusal_logs = 0;
  };

  // Start()
  //
  // Starts accepting on `listen_fd` (a listening socket; it must stay open
  // until Shutdown() returns, and stays the caller's) and serving each
  // connection with `serve`, refusing those over the limits through
  // `refuse`. Never fails. Accepted fds are close-on-exec.
  static std::unique_ptr<ConnectionServer> Start(int listen_fd, Options options,
                                                 ServeFunction serve,
                                                 RefuseFunction refuse = {});

  ConnectionServer(const ConnectionServer&) = delete;
  ConnectionServer& operator=(const ConnectionServer&) = delete;
  // Shutdown().
  ~ConnectionServer();

  // Shutdown()
  //
  // Stops accepting (shuts `listen_fd` down), shuts every live connection
  // down, and waits for the accept thread and every connection's thread.
  // Idempotent; later calls return at once.
  void Shutdown();

  // The connections being served right now.
  int connection_count() const;
  Counters counters() const;

 private:
  // What the accept thread learns of a new connection outside the lock.
  struct Admission {
    std::optional<uint64_t> key;
    int64_t free_fds = INT64_MAX;
  };

  ConnectionServer(int listen_fd, Options options, ServeFunction serve,
                   RefuseFunction refuse);
  void AcceptLoop();
  // Counts and logs a failed accept; true when the loop should back off.
  bool NoteAcceptError(int error_number, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts serving `connection` (taking it) or returns why it is refused
  // (leaving it).
  absl::Status Admit(UniqueFd& connection, const Admission& admission)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NoteRefusal(const absl::Status& why, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Refuse(UniqueFd connection, const absl::Status& why);
  // Closes the refused connections whose time is up; returns how long
  // until the next one's (InfiniteDuration when none is left).
  absl::Duration CloseLingering(absl::Time now);
  void Serve(UniqueFd connection, uint64_t connection_id,
             std::optional<uint64_t> key);

  const int listen_fd_;
  const Options options_;
  const ServeFunction serve_;
  const RefuseFunction refuse_;
  std::thread accept_thread_;
  // Refused connections still open, oldest first (accept thread only).
  struct Lingering {
    UniqueFd connection;
    absl::Time until;
  };
  std::deque<Lingering> lingering_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The live connections' fds by connection id (not by fd: a closed fd's
  // number is reused by the next accept before its thread has ended), to
  // shut them down; each is owned by its connection's thread.
  absl::flat_hash_map<uint64_t, int> connections_ ABSL_GUARDED_BY(mu_);
  // Live connections per key (no zero entries).
  absl::flat_hash_map<uint64_t, int> per_key_ ABSL_GUARDED_BY(mu_);
  // Connection threads still running (detached: each announces its end
  // here, and Shutdown() waits for zero).
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_connection_id_ ABSL_GUARDED_BY(mu_) = 1;
  Counters counters_ ABSL_GUARDED_BY(mu_);
  // Failed accepts and refusals not logged yet, and when the last line
  // about each was written.
  uint64_t unlogged_errors_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t unlogged_refusals_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_refusal_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace swift

#endif  // SWIFT_COMMON_CONNECTION_SERVER_H_
