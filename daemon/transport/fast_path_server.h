// FastPathServer: swiftd's lean transport for hot calls (proto/fast_path.proto)
// on an AF_UNIX SOCK_SEQPACKET socket beside the gRPC one.
//
// One thread per connection, blocked in recvmsg(): the cheapest wake-up a
// request can get, and a host has few client processes. The transport
// checks the hello and the API version; every other request goes to the
// handler. Thread-safe: Shutdown() may be called from any thread.
#ifndef SWIFT_DAEMON_TRANSPORT_FAST_PATH_SERVER_H_
#define SWIFT_DAEMON_TRANSPORT_FAST_PATH_SERVER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/seqpacket_socket.h"
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
    // A CALLS connection ended (its process may be gone).
    std::function<void(const FastPathCaller&)> disconnected;
    // What the hello reply tells clients.
    std::string peer_address;
    std::string device;
  };

  // Start()
  //
  // Listens on `path` (which must not exist: PrepareSocketPath first) with
  // `mode` and serves connections until Shutdown(). Errors carry errno.
  static absl::StatusOr<std::unique_ptr<FastPathServer>> Start(
      const std::string& path, mode_t mode, Handlers handlers);

  FastPathServer(const FastPathServer&) = delete;
  FastPathServer& operator=(const FastPathServer&) = delete;
  ~FastPathServer();

  // Shutdown()
  //
  // Stops accepting, closes every connection, waits for their threads and
  // removes the socket file. Idempotent.
  void Shutdown();

  int connection_count() const;

 private:
  FastPathServer(std::string path, SeqpacketListener listener,
                 Handlers handlers);
  void AcceptLoop();
  void Serve(SeqpacketSocket connection, uint64_t channel_id);

  const std::string path_;
  SeqpacketListener listener_;
  const Handlers handlers_;
  std::thread accept_thread_;

  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // fds of the live connections, to shut them down; each is owned by its
  // connection thread.
  absl::flat_hash_set<int> connection_fds_ ABSL_GUARDED_BY(mu_);
  int running_threads_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_channel_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_TRANSPORT_FAST_PATH_SERVER_H_
