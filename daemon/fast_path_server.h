// FastPathServer: swiftd's lean transport for hot calls (proto/fast_path.proto)
// on an AF_UNIX SOCK_SEQPACKET socket beside the gRPC one.
//
// One thread per connection, blocked in recvmsg(): the cheapest wake-up a
// request can get, and a host has few client processes. The transport
// checks the hello and the API version; every other request goes to the
// handler. Thread-safe: Shutdown() may be called from any thread.
#ifndef SWIFT_DAEMON_FAST_PATH_SERVER_H_
#define SWIFT_DAEMON_FAST_PATH_SERVER_H_

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
  std::string client_name;
  int64_t pid = 0;
  // The peer's credentials from the kernel (SO_PEERCRED): trustworthy.
  uid_t uid = 0;
};

class FastPathServer final {
 public:
  // Answers one request (never a hello). Runs on the connection's thread;
  // may block that connection only.
  using Handler = std::function<v1::FastResponse(const FastPathCaller&,
                                                 const v1::FastRequest&)>;

  // Start()
  //
  // Listens on `path` (which must not exist: PrepareSocketPath first) with
  // `mode` and serves connections until Shutdown(). Errors carry errno.
  static absl::StatusOr<std::unique_ptr<FastPathServer>> Start(
      const std::string& path, mode_t mode, Handler handler);

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
  FastPathServer(std::string path, SeqpacketListener listener, Handler handler);
  void AcceptLoop();
  void Serve(SeqpacketSocket connection);

  const std::string path_;
  SeqpacketListener listener_;
  const Handler handler_;
  std::thread accept_thread_;

  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // fds of the live connections, to shut them down; each is owned by its
  // connection thread.
  absl::flat_hash_set<int> connection_fds_ ABSL_GUARDED_BY(mu_);
  int running_threads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FAST_PATH_SERVER_H_
