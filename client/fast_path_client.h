// FastPathClient: libswift's side of swiftd's fast path
// (proto/fast_path.proto over SOCK_SEQPACKET). Internal to libswift.
//
// Thread-safe: calls are serialized on the one connection, each a single
// send and a single receive.
#ifndef SWIFT_CLIENT_FAST_PATH_CLIENT_H_
#define SWIFT_CLIENT_FAST_PATH_CLIENT_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/seqpacket_socket.h"
#include "proto/fast_path.pb.h"

namespace swift {

class FastPathClient final {
 public:
  // Connect()
  //
  // Connects to swiftd's fast path socket at `path` and says hello.
  // kNotFound/kUnavailable when swiftd has no fast path there;
  // kFailedPrecondition when swiftd refuses this API version.
  static absl::StatusOr<std::unique_ptr<FastPathClient>> Connect(
      const std::string& path, const std::string& client_name);

  // Call()
  //
  // Sends `request` (its call_id is set here) and returns swiftd's answer,
  // or the status swiftd answered with. kUnavailable when swiftd went away.
  absl::StatusOr<v1::FastResponse> Call(v1::FastRequest request);

 private:
  explicit FastPathClient(SeqpacketSocket socket) : socket_(std::move(socket)) {}

  absl::Mutex mu_;
  SeqpacketSocket socket_ ABSL_GUARDED_BY(mu_);
  uint64_t next_call_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_FAST_PATH_CLIENT_H_
