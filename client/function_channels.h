// FunctionChannels: libswift's direct channels to function workers.
// Internal to libswift.
//
// A WARM or FORK invocation through swiftd crosses two local hops (client
// to swiftd, swiftd to the worker) and wakes two of swiftd's threads. A
// direct channel is a fast path connection that swiftd, once it has found
// the function, hands to the function's worker: invocations then go from
// the client straight to the worker, in the fast path's own messages
// (proto/fast_path.proto: FastRequest{invoke}, answered by one
// FastResponse{invoke}; the worker translates at its edge). Channels are
// kept per function in an IdlePool and reused; one invocation runs on a
// channel at a time, so concurrent callers get channels of their own.
// Thread-safe.
#ifndef SWIFT_CLIENT_FUNCTION_CHANNELS_H_
#define SWIFT_CLIENT_FUNCTION_CHANNELS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/idle_pool.h"
#include "common/seqpacket_socket.h"
#include "proto/swift.pb.h"

namespace swift {

class FunctionChannels final {
 public:
  // `fast_path_socket` is swiftd's fast path socket.
  FunctionChannels(std::string fast_path_socket, std::string client_name)
      : path_(std::move(fast_path_socket)),
        client_name_(std::move(client_name)) {}

  // Invoke()
  //
  // Runs `request` (WARM or FORK) on a channel to its function's worker,
  // opening one through swiftd when none is idle. The statuses are
  // Client::Invoke()'s; kUnavailable when the worker ended during the
  // invocation (it is not retried: the function may have run);
  // kDeadlineExceeded when the worker did not answer within the
  // invocation's timeout and a grace period. An idle channel found closed
  // (the worker was stopped since) is replaced once.
  absl::StatusOr<v1::InvokeResponse> Invoke(const v1::InvokeRequest& request);

 private:
  using Pool = IdlePool<SeqpacketSocket>;

  // The idle channels to `function`.
  Pool& PoolFor(const std::string& function);
  // An idle channel to `function`, or a new one (`*opened` says which).
  absl::StatusOr<SeqpacketSocket> Take(const std::string& function,
                                       bool* opened);

  const std::string path_;
  const std::string client_name_;
  absl::Mutex mu_;
  // Pools are never removed, so a reference outlives the lock.
  absl::flat_hash_map<std::string, std::unique_ptr<Pool>> idle_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_call_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_FUNCTION_CHANNELS_H_
