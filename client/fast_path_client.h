// FastPathClient: libswift's side of swiftd's fast path
// (proto/fast_path.proto over SOCK_SEQPACKET). Internal to libswift.
//
// Keeps the CALLS connections it opened in a pool (common/idle_pool.h) so
// that concurrent callers do not queue behind each other's round trips (a
// brokered connect waits on the remote host). The pool keeps every one of
// them for the client's life, on purpose: swiftd ties the connections it
// brokers to the fast path connection they were made on (its end closes
// them, which is how a dead client's connections are reclaimed), so closing
// an idle one would close connections the application still uses. swiftd
// bounds how many a uid may hold (--max_fast_path_connections_per_uid).
// Each CALLS connection asks swiftd for a call lane (common/call_lane.h)
// when the client spins for answers: a call made while swiftd watches
// (right after another) then crosses in shared memory, no system call.
// Thread-safe.
#ifndef SWIFT_CLIENT_FAST_PATH_CLIENT_H_
#define SWIFT_CLIENT_FAST_PATH_CLIENT_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/call_lane.h"
#include "common/idle_pool.h"
#include "common/seqpacket_socket.h"
#include "common/unique_fd.h"
#include "proto/fast_path.pb.h"
#include "swift/defaults.h"

namespace swift {

class FastPathClient final {
 public:
  // Connect()
  //
  // Connects to swiftd's fast path socket at `path` and says hello.
  // kNotFound/kUnavailable when swiftd has no fast path there;
  // kFailedPrecondition when swiftd refuses this API version.
  // Each call then watches for its answer `answer_spin` before sleeping
  // (zero: never; see kDefaultFastPathSpin).
  static absl::StatusOr<std::unique_ptr<FastPathClient>> Connect(
      const std::string& path, const std::string& client_name,
      absl::Duration answer_spin = kDefaultFastPathSpin);

  // OpenChannel()
  //
  // A new connection of `kind`, greeted; for SERVICE and FUNCTION
  // (`function` names it) channels, which their owner drives itself.
  static absl::StatusOr<SeqpacketSocket> OpenChannel(
      const std::string& path, const std::string& client_name,
      v1::FastHello::Channel kind, v1::FastHelloReply* reply = nullptr,
      const std::string& function = "");

  // Call()
  //
  // Sends `request` (its call_id is set here, one higher per call) on an
  // idle connection (a new one when all are busy) and returns swiftd's
  // answer, or the status swiftd answered with (proto/wire_status.h).
  // kUnavailable when swiftd went away (the connection is dropped, not
  // reused); kInternal for a malformed answer or one to another call.
  absl::StatusOr<v1::FastResponse> Call(v1::FastRequest request);

  // CallWithFds()
  //
  // Call(), keeping the fds swiftd attached to its answer in `fds` (owned
  // by the caller; e.g. a lease's memfd). On an error answer `fds` is
  // left empty.
  absl::StatusOr<v1::FastResponse> CallWithFds(v1::FastRequest request,
                                               std::vector<UniqueFd>* fds);

  // CallAround()
  //
  // Call(), running `meanwhile` between sending the request and waiting
  // for the answer: work the caller must do anyway (a closed connection's
  // QP reset) overlaps swiftd's, and the answer is usually in when it is
  // done, so the thread does not sleep for it. `meanwhile` runs exactly
  // once, also when the call fails.
  absl::StatusOr<v1::FastResponse> CallAround(
      v1::FastRequest request, absl::FunctionRef<void()> meanwhile);

  // What swiftd said in its hello (device, peer address).
  const v1::FastHelloReply& hello() const { return hello_; }

 private:
  FastPathClient(std::string path, std::string client_name,
                 v1::FastHelloReply hello, absl::Duration answer_spin)
      : path_(std::move(path)),
        client_name_(std::move(client_name)),
        hello_(std::move(hello)),
        answer_spin_(answer_spin) {}

  // A CALLS connection and its call lane (none when swiftd declined).
  struct CallsConnection {
    SeqpacketSocket socket;
    std::optional<CallLane> lane;
  };

  // A new CALLS connection, greeted (swiftd's reply in `*reply` if set).
  static absl::StatusOr<CallsConnection> OpenCallsConnection(
      const std::string& path, const std::string& client_name,
      absl::Duration answer_spin, v1::FastHelloReply* reply);

  // An idle connection, or a new one.
  absl::StatusOr<CallsConnection> TakeConnection();

  // CallWithFds() and CallAround(): one call on an idle connection.
  absl::StatusOr<v1::FastResponse> CallOnIdle(
      v1::FastRequest request, std::vector<UniqueFd>* fds,
      std::optional<absl::FunctionRef<void()>> meanwhile);

  const std::string path_;
  const std::string client_name_;
  const v1::FastHelloReply hello_;
  const absl::Duration answer_spin_;
  // Unbounded and never aged: see the file comment.
  IdlePool<CallsConnection> idle_{IdlePool<CallsConnection>::Options{
      std::numeric_limits<size_t>::max(), absl::InfiniteDuration()}};
  absl::Mutex mu_;
  uint64_t next_call_id_ ABSL_GUARDED_BY(mu_) = 1;
};

// CallOn()
//
// One request-response exchange on `socket`; the status swiftd answered
// with becomes the returned status. kUnavailable when the socket is
// broken; kInternal for a malformed answer or one to another call_id.
// The fds attached to a successful answer go to `fds` when it is not null
// (else they are closed).
absl::StatusOr<v1::FastResponse> CallOn(SeqpacketSocket& socket,
                                        const v1::FastRequest& request,
                                        std::vector<UniqueFd>* fds = nullptr);

}  // namespace swift

#endif  // SWIFT_CLIENT_FAST_PATH_CLIENT_H_
