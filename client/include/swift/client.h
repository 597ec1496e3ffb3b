// libswift: what applications link to use swiftd.
//
//   swift::ClientOptions options;  // Defaults: /run/swift/swiftd.sock.
//   absl::StatusOr<std::unique_ptr<swift::Client>> client =
//       swift::Client::Connect(options);
//   if (!client.ok()) {
//     // e.g. kUnavailable: swiftd is not running.
//   }
//   absl::StatusOr<swift::DaemonStatus> status = (*client)->GetStatus();
//
//   swift::Invocation invocation;
//   invocation.function = "resize";
//   invocation.payload = "...";
//   absl::StatusOr<swift::InvokeResult> result =
//       (*client)->Invoke(invocation);
//
// Every call returns absl::Status; the message says what went wrong in
// words a user can act on, and the code is the one to branch on. libswift
// never aborts the process on bad input and never initializes logging.
// The types below are plain C++ values: they own what they hold and copy
// freely.
//
// Thread-safe: one Client may be used from many threads at once.
#ifndef SWIFT_CLIENT_INCLUDE_SWIFT_CLIENT_H_
#define SWIFT_CLIENT_INCLUDE_SWIFT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "swift/defaults.h"

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
  // How long a fast path call watches for the answer before sleeping (see
  // kDefaultFastPathSpin); zero: never spins.
  absl::Duration fast_path_spin = kDefaultFastPathSpin;
};

// What GetStatus() reports about the running swiftd.
struct DaemonStatus {
  // swiftd's release, e.g. "0.1.0".
  std::string version;
  // The Control API version swiftd speaks, and the oldest it accepts.
  uint32_t api_version = 0;
  uint32_t min_api_version = 0;
  absl::Duration uptime = absl::ZeroDuration();
  int64_t pid = 0;
  // Devices swiftd has open (0 on a host without RDMA: a normal state),
  // and those that failed to open.
  uint32_t devices_count = 0;
  uint32_t devices_failed_count = 0;
  // Clients attached right now (ClientOptions::attach).
  uint32_t clients_count = 0;
  // The socket swiftd listens on.
  std::string socket_path;
  absl::Time start_time = absl::UnixEpoch();
  // Random at each start: a change means swiftd restarted.
  uint64_t incarnation = 0;
  // Where swiftd's Peer API listens ("ip:port"); empty when it brokers no
  // peers.
  std::string peer_address;
};

// How an invocation runs (see swift/function.h).
enum class InvokeMode {
  // A child forked from the function's ready worker runs it.
  kFork,
  // An idle instance runs it (a fork when none is idle).
  kWarm,
  // A fresh worker builds everything and runs it.
  kCold,
};

// A service every instance of a function gets one connected RC QP to.
struct FunctionPeer {
  // A peer swiftd's "ip:port" or a name from swiftd's --peers.
  std::string host;
  std::string service;
};

// What RegisterFunction() registers. Zero values mean swiftd's defaults.
struct FunctionSpec {
  std::string name;
  // Absolute path of the function's shared library.
  std::string library_path;
  std::vector<FunctionPeer> peers;
  // Instances (forked children) at most; 0 = 8.
  uint32_t max_instances = 0;
  // An idle instance exits after this (whole milliseconds); zero = 60 s.
  absl::Duration idle_timeout = absl::ZeroDuration();
  // Address-space limit of the worker and its instances; 0 = none.
  uint64_t memory_limit_bytes = 0;
  // Run the worker as this user and group; 0 = as the caller. Only root
  // may name another user; gid 0 with a uid means that user's primary
  // group.
  uint32_t uid = 0;
  uint32_t gid = 0;
  // Connected QP sets the worker keeps ready for forks; 0 = 2.
  uint32_t prepared = 0;
  // Instances forked ahead of FORK invocations; unset = 1, 0 = fork only
  // when a request arrives.
  std::optional<uint32_t> spare_instances;
};

// What RegisterFunction() reports.
struct RegisteredFunction {
  int64_t worker_pid = 0;
  // From the registration to the worker's ready report.
  absl::Duration worker_startup = absl::ZeroDuration();
};

// What UnregisterFunction() reports.
struct UnregisteredFunction {
  // The worker that was stopped.
  int64_t worker_pid = 0;
};

// One call of a function.
struct Invocation {
  std::string function;
  // Handed to the function as is (bytes, not necessarily text).
  std::string payload;
  InvokeMode mode = InvokeMode::kFork;
  // The instance is killed after this (whole milliseconds, at least one);
  // zero means kDefaultCallTimeout.
  absl::Duration timeout = absl::ZeroDuration();
};

// What Invoke() returns when the function succeeded.
struct InvokeResult {
  // What the function wrote as its result.
  std::string result;
  InvokeMode served_by = InvokeMode::kFork;
  int64_t instance_pid = 0;
  // Request to reply as the server measured it (swiftd, or the worker for
  // an invocation on a direct channel), the function alone, and the
  // worker's part (a fork included).
  absl::Duration total = absl::ZeroDuration();
  absl::Duration function_time = absl::ZeroDuration();
  absl::Duration worker_time = absl::ZeroDuration();
  // A FORK served by a spare instance (forked before the request came).
  bool spare = false;
  // The request went straight to a spare that held this client's channel
  // (the worker parks one there while both are idle), not through the
  // worker: one local hop fewer.
  bool parked = false;
};

class Client {
 public:
  // Connect()
  //
  // Connects to swiftd at `options.socket_path` and, if `options.attach`,
  // registers as a client. On success the caller owns the Client; swiftd
  // forgets an attached client when it is destroyed. Fails with:
  //   kUnavailable       swiftd is not running (no socket, or a stale one)
  //                      or did not answer within connect_timeout;
  //   kPermissionDenied  the caller may not use the socket (its group);
  //   kInvalidArgument   the path does not fit in a Unix socket address;
  //   kFailedPrecondition swiftd does not speak this library's API version.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ClientOptions& options = ClientOptions());

  virtual ~Client() = default;

  // GetStatus()
  //
  // swiftd's version, uptime, pid and counts. kUnavailable or
  // kDeadlineExceeded when swiftd went away.
  virtual absl::StatusOr<DaemonStatus> GetStatus() = 0;

  // Ping()
  //
  // One round trip to swiftd and back over `transport`; `sequence` is
  // echoed. kFailedPrecondition for kFastPath when it is not open;
  // kUnavailable when swiftd went away; kInternal when the echo differs.
  virtual absl::Status Ping(uint64_t sequence,
                            Transport transport = Transport::kFastPath) = 0;

  // RegisterFunction()
  //
  // Starts a worker for `spec` (see swift/function.h); it has built its
  // RDMA resources and connected to every peer when this returns.
  // kAlreadyExists: a function of that name is registered; kPermissionDenied:
  // the caller may not run it as `spec.uid`; kInvalidArgument: a bad spec
  // (e.g. a relative library path); kFailedPrecondition: swiftd's fast path
  // is not open (registration is served there only); otherwise the reason
  // the worker failed to start.
  virtual absl::StatusOr<RegisteredFunction> RegisterFunction(
      const FunctionSpec& spec) = 0;

  // UnregisterFunction()
  //
  // Stops the function's worker and forgets the function. Root, or the
  // user the function runs as, may. kNotFound: no such function;
  // kPermissionDenied: another user's function; kFailedPrecondition: the
  // fast path is not open.
  virtual absl::StatusOr<UnregisteredFunction> UnregisterFunction(
      const std::string& name) = 0;

  // Invoke()
  //
  // Runs `invocation` and blocks until the function returns (its timeout
  // bounds it). kNotFound: no such function; kDeadlineExceeded: the
  // function ran past its timeout and was killed; kUnavailable: the worker
  // or swiftd went away meanwhile (not retried: the function may have run);
  // kAborted when the function returned non-zero (the message carries its
  // value and text); kOutOfRange when it claimed too large a result.
  virtual absl::StatusOr<InvokeResult> Invoke(
      const Invocation& invocation) = 0;

  // Whether hot calls use the fast path.
  virtual bool has_fast_path() const = 0;

  // The id swiftd gave this client when it attached; 0 if not attached.
  virtual uint64_t client_id() const = 0;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_INCLUDE_SWIFT_CLIENT_H_
