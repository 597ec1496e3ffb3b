// FastPathServer: swiftd's lean transport for hot calls (proto/fast_path.proto)
// on an AF_UNIX SOCK_SEQPACKET socket beside the gRPC one.
//
// One thread per connection (common/connection_server.h), blocked in
// recvmsg(): the cheapest wake-up a request can get, and a host has few
// client processes. The transport
// checks the hello and the API version; every other request goes to the
// handler. A CALLS connection whose client asks for it gets a call lane
// (common/call_lane.h), through which calls made while this server watches
// come, and answers go to a client watching for them.
// Thread-safe: Shutdown() may be called from any thread.
//
// Bounded (FastPathLimits): connections in all and per uid, descriptors
// kept in reserve, and a hello deadline; a connection over a limit is
// answered with kResourceExhausted naming the flag to raise, then closed.
#ifndef SWIFT_DAEMON_TRANSPORT_FAST_PATH_SERVER_H_
#define SWIFT_DAEMON_TRANSPORT_FAST_PATH_SERVER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/connection_server.h"
#include "common/fd_limits.h"
#include "common/seqpacket_socket.h"
#include "common/unique_fd.h"
#include "proto/fast_path.pb.h"

namespace swift {

// Who is calling, as established by the connection's hello.
struct FastPathCaller {
  // Unique per fast path connection, for the life of swiftd.
  uint64_t channel_id = 0;
  std::string client_name;
  int64_t pid = 0;
  // The peer's credentials from the kernel (SO_PEERCRED): trustworthy.
  // kUnknownId when the kernel did not say (never mistaken for root).
  static constexpr uid_t kUnknownId = static_cast<uid_t>(-1);
  uid_t uid = kUnknownId;
  gid_t gid = static_cast<gid_t>(kUnknownId);
};

// What one swiftd allows on its fast path (issue 10: anyone who can reach
// the socket could otherwise take every thread and descriptor swiftd has).
struct FastPathLimits {
  // Connections served at once (--max_fast_path_connections).
  int max_connections = 1024;
  // Connections of one uid (SO_PEERCRED) at once
  // (--max_fast_path_connections_per_uid); 0: no per-uid cap. Root is
  // exempt (it can stop swiftd anyway, and its workers must not be
  // refused) but counts toward max_connections.
  int max_connections_per_uid = 256;
  // Refuse while fewer descriptors than this would remain free.
  int fd_reserve = kDefaultFdReserve;
  // A connection must say hello within this, or it is closed.
  absl::Duration hello_timeout = absl::Seconds(10);
  // A CALLS connection whose client does not take its answers for this
  // long is closed (SO_SNDTIMEO). SERVICE and FUNCTION channels are
  // long-lived: no timeouts once greeted.
  absl::Duration send_timeout = absl::Seconds(10);
  // After an answer on a CALLS connection, watch for the client's next
  // call this long (common/spin_wait.h) before sleeping in recv, when its
  // last call came within it (--fast_path_spin; zero: never, and no call
  // lanes). A burst of calls then costs no wake-up of this side (on a call
  // lane, no system call at all); a client that calls now and then costs
  // no spin.
  absl::Duration answer_spin = absl::Microseconds(30);
};

class FastPathServer final {
 public:
  struct Handlers {
    // Answers one request on a CALLS connection (never a hello). Runs on
    // the connection's thread; may block that connection only.
    std::function<v1::FastResponse(const FastPathCaller&,
                                   const v1::FastRequest&)>
        call;
    // Runs a SERVICE connection after its hello, until it closes.
    std::function<void(SeqpacketSocket, const FastPathCaller&)> service;
    // Hands a FUNCTION connection to `function`'s worker (passing a copy
    // of its fd), before swiftd answers the hello; an error is the hello's
    // answer. swiftd then closes its copy.
    std::function<absl::Status(const SeqpacketSocket&, const FastPathCaller&,
                               const std::string& function)>
        function_channel;
    // Like `call`, and the answer may carry fds: the handler moves them
    // into `fds` (at most kMaxSeqpacketFds); the server sends them with
    // the answer (SCM_RIGHTS) and closes its copies once the answer is
    // sent or could not be (every path). When set, used instead of `call`.
    std::function<v1::FastResponse(const FastPathCaller&,
                                   const v1::FastRequest&,
                                   std::vector<UniqueFd>* fds)>
        call_with_fds;
    // A CALLS connection ended (its process may be gone).
    std::function<void(const FastPathCaller&)> disconnected;
    // A CALLS or SERVICE connection was greeted, and later ended (after
    // `disconnected`, and for SERVICE after `service` returned): who is
    // attached (`swiftctl clients`). FUNCTION channels belong to workers.
    std::function<void(const FastPathCaller&, v1::FastHello::Channel)>
        greeted;
    std::function<void(const FastPathCaller&, v1::FastHello::Channel)> ended;
    // What the hello reply tells clients.
    std::string peer_address;
    std::string device;
    // `device`'s port address at the time of a hello (nullopt: none).
    std::function<std::optional<v1::CachedPortAddress>()> port_address;
  };

  // Start()
  //
  // Listens on `path` (which must not exist: PrepareSocketPath first) with
  // `mode` and serves connections until Shutdown(). Errors carry errno.
  static absl::StatusOr<std::unique_ptr<FastPathServer>> Start(
      const std::string& path, mode_t mode, Handlers handlers,
      const FastPathLimits& limits);
  static absl::StatusOr<std::unique_ptr<FastPathServer>> Start(
      const std::string& path, mode_t mode, Handlers handlers) {
    return Start(path, mode, std::move(handlers), FastPathLimits());
  }

  FastPathServer(const FastPathServer&) = delete;
  FastPathServer& operator=(const FastPathServer&) = delete;
  ~FastPathServer();

  // Shutdown()
  //
  // Stops accepting, closes every connection, waits for their threads and
  // removes the socket file. Idempotent.
  void Shutdown();

  // The connections being served right now.
  int connection_count() const { return server_->connection_count(); }
  // What the accept loop did (refusals included).
  ConnectionServer::Counters counters() const { return server_->counters(); }

  // The skeleton's options for `limits` (exposed for tests).
  static ConnectionServer::Options ServerOptions(const FastPathLimits& limits);

 private:
  FastPathServer(std::string path, SeqpacketListener listener,
                 Handlers handlers, const FastPathLimits& limits);
  void Serve(SeqpacketSocket connection, uint64_t channel_id);
  // Answers a refused connection's hello with `why`; never blocks.
  static void Refuse(int connection, const absl::Status& why);

  const std::string path_;
  // Declared before server_: it must outlive the accept loop.
  SeqpacketListener listener_;
  const Handlers handlers_;
  const FastPathLimits limits_;
  // The accept loop and the connections' threads; a channel id is the
  // connection's id there.
  std::unique_ptr<ConnectionServer> server_;

  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_TRANSPORT_FAST_PATH_SERVER_H_
