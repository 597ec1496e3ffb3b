// libswift: what applications link to use swiftd.
//
//   swift::ClientOptions options;            // defaults:
//   /run/swift/swiftd.sock absl::StatusOr<std::unique_ptr<swift::Client>>
//   client =
//       swift::Client::Connect(options);
//   if (!client.ok()) { /* e.g. kUnavailable: swiftd is not running */ }
//   absl::StatusOr<swift::v1::GetStatusResponse> status =
//   (*client)->GetStatus();
//
// Every call returns absl::Status; the message says what went wrong in
// words a user can act on, and the code is the one to branch on. libswift
// never aborts the process on bad input and never initializes logging.
//
// Thread-safe: one Client may be used from many threads at once.
#ifndef SWIFT_CLIENT_INCLUDE_SWIFT_CLIENT_H_
#define SWIFT_CLIENT_INCLUDE_SWIFT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/swift.pb.h"

namespace swift {

// How a call travels to swiftd.
enum class Transport {
  // The lean SOCK_SEQPACKET path (a few microseconds); what hot calls use.
  kFastPath,
  // gRPC on the Unix socket (about 100 us); what management calls use.
  kGrpc,
};

struct ClientOptions {
  // swiftd's Control API socket.
  std::string socket_path = "/run/swift/swiftd.sock";
  // Shown by swiftd in logs and listings; empty means the program's name.
  std::string client_name;
  // How long Connect() waits for swiftd to accept.
  absl::Duration connect_timeout = absl::Seconds(3);
  // Deadline of each call.
  absl::Duration call_timeout = absl::Seconds(5);
  // Register with swiftd as a client for the Client's lifetime, so swiftd
  // can release what it holds for this process when it exits. Tools that
  // only look (swiftctl) set this to false.
  bool attach = true;
  // Open the fast path for hot calls. When swiftd offers none (an older
  // swiftd), hot calls fall back to gRPC.
  bool use_fast_path = true;
};

class Client {
 public:
  // Connect()
  //
  // Connects to swiftd at `options.socket_path` and, if `options.attach`,
  // registers as a client. Fails with:
  //   kUnavailable       swiftd is not running (no socket, or a stale one)
  //                      or did not answer within connect_timeout;
  //   kPermissionDenied  the caller may not use the socket (its group);
  //   kInvalidArgument   the path does not fit in a Unix socket address;
  //   kFailedPrecondition swiftd does not speak this library's API version.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ClientOptions& options = ClientOptions());

  virtual ~Client() = default;

  // GetStatus(): swiftd's version, uptime, pid and counts.
  virtual absl::StatusOr<v1::GetStatusResponse> GetStatus() = 0;

  // ListDevices(): the RDMA devices swiftd holds open.
  virtual absl::StatusOr<v1::ListDevicesResponse> ListDevices() = 0;

  // ListPeers(), ListServices(), ListConnections(): what swiftd brokers
  // (see `swiftctl peers|services|connections`).
  virtual absl::StatusOr<v1::ListPeersResponse> ListPeers() = 0;
  virtual absl::StatusOr<v1::ListServicesResponse> ListServices() = 0;
  virtual absl::StatusOr<v1::ListConnectionsResponse> ListConnections() = 0;

  // RegisterFunction(), Invoke(), ListWorkers(): functions run by swiftd's
  // workers (cold, warm, fork); see swift/function.h. Invoke blocks until
  // the function returns (its own timeout_ms bounds it).
  virtual absl::StatusOr<v1::RegisterFunctionResponse> RegisterFunction(
      const v1::RegisterFunctionRequest& request) = 0;
  virtual absl::StatusOr<v1::InvokeResponse> Invoke(
      const v1::InvokeRequest& request) = 0;
  // UnregisterFunction(): stops the function's worker and forgets it.
  // Root, or the user the function runs as, may.
  virtual absl::StatusOr<v1::UnregisterFunctionResponse> UnregisterFunction(
      const std::string& name) = 0;
  virtual absl::StatusOr<v1::ListWorkersResponse> ListWorkers() = 0;

  // Ping(): one round trip to swiftd and back over `transport`; `sequence`
  // is echoed. kFailedPrecondition for kFastPath when it is not open.
  virtual absl::Status Ping(uint64_t sequence,
                            Transport transport = Transport::kFastPath) = 0;

  // Whether hot calls use the fast path.
  virtual bool has_fast_path() const = 0;

  // The id swiftd gave this client when it attached; 0 if not attached.
  virtual uint64_t client_id() const = 0;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_INCLUDE_SWIFT_CLIENT_H_
