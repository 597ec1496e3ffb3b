// SwiftdServer: swiftd's caches and its Control API server, started and
// stopped as one unit. main.cc and the tests both run swiftd through it.
//
// Thread-safe: Shutdown() may be called from any thread, more than once.
#ifndef SWIFT_DAEMON_SWIFTD_SERVER_H_
#define SWIFT_DAEMON_SWIFTD_SERVER_H_

#include <grpcpp/server.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/client_registry.h"
#include "daemon/control_service.h"
#include "daemon/device_cache.h"
#include "daemon/fast_path_server.h"
#include "daemon/fast_path_service.h"

namespace swift {

struct SwiftdOptions {
  // Where the Control API listens.
  std::string socket_path;
  // Who may connect: the socket file's mode and (if not empty) group.
  mode_t socket_mode = 0660;
  std::string socket_group;
};

class SwiftdServer final {
 public:
  // Start()
  //
  // Prepares the socket path (removing a stale socket), opens every RDMA
  // device, and serves the Control API, gRPC health checking and server
  // reflection on `options.socket_path`, and the fast path beside it
  // (FastPathSocketPath()). Returns once serving. Fails with
  // kAlreadyExists when another swiftd serves on the path, with the socket
  // preparation's or the device list's error, or kUnavailable when gRPC
  // cannot listen.
  static absl::StatusOr<std::unique_ptr<SwiftdServer>> Start(
      const SwiftdOptions& options);

  SwiftdServer(const SwiftdServer&) = delete;
  SwiftdServer& operator=(const SwiftdServer&) = delete;
  // Shuts down (grace of one second) if not done already.
  ~SwiftdServer();

  // Shutdown()
  //
  // Stops accepting calls, lets calls in flight finish for up to `grace`,
  // cancels the rest (open Attach streams end here), and removes the socket
  // file. Blocks until done. Later calls do nothing.
  void Shutdown(absl::Duration grace);

  const DeviceCache& devices() const { return *devices_; }
  const ClientRegistry& clients() const { return clients_; }
  const std::string& socket_path() const { return options_.socket_path; }
  const std::string& fast_path_socket_path() const { return fast_path_path_; }

 private:
  SwiftdServer(SwiftdOptions options, std::unique_ptr<DeviceCache> devices);

  // Members in creation order, so they are destroyed in reverse: the server
  // goes before the service, the service before what it reads.
  const SwiftdOptions options_;
  const std::string fast_path_path_;
  std::unique_ptr<DeviceCache> devices_;
  ClientRegistry clients_;
  std::unique_ptr<ControlServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  FastPathService fast_path_service_;
  std::unique_ptr<FastPathServer> fast_path_server_;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_SWIFTD_SERVER_H_
