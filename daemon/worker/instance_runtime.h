// InstanceRuntime: runs a Swift function (swift/function.h) in the current
// process over a set of connected QPs: builds the invocation, gives the
// function a fork-safe post_send, and turns its outcome into an InvokeReply.
//
// Used by forked instances (children of a worker) and by cold workers.
// Thread-compatible: one invocation at a time.
#ifndef SWIFT_DAEMON_WORKER_INSTANCE_RUNTIME_H_
#define SWIFT_DAEMON_WORKER_INSTANCE_RUNTIME_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "daemon/worker/fork/fork_safe_sender.h"
#include "proto/worker.pb.h"
#include "swift/function.h"
#include "swift/session.h"

namespace swift {

class InstanceRuntime final {
 public:
  // Result bytes a function may return.
  static constexpr size_t kMaxResultBytes = 64 * 1024;

  // Create()
  //
  // Prepares `connections` (not owned; they must outlive the runtime, and
  // all are on the device `doorbell` describes: detect it once, before
  // forking) for `function`. `shared_lkeys` are memory regions the caller
  // already verified to be MAP_SHARED; others are checked on first use.
  // Errors: kInvalidArgument for a QP of another device.
  static absl::StatusOr<std::unique_ptr<InstanceRuntime>> Create(
      swift_function_fn function, const std::vector<Connection*>& connections,
      const ProviderDoorbell& doorbell,
      absl::flat_hash_set<uint32_t> shared_lkeys = {});

  // Run()
  //
  // Runs the function on `request`'s payload and returns the reply (code 0
  // on success; kAborted with the function's return value otherwise).
  worker::v1::InvokeReply Run(const worker::v1::InvokeRequest& request);

 private:
  InstanceRuntime() = default;
  static int PostSend(void* context, size_t connection, ibv_send_wr* wr);
  static const char* LastError(void* context);

  swift_function_fn function_ = nullptr;
  std::vector<swift_connection_view> views_;
  std::vector<ForkSafeSender> senders_;
  // Memory regions (by lkey) already checked to be MAP_SHARED.
  absl::flat_hash_set<uint32_t> shared_lkeys_;
  std::string last_error_;
  std::vector<uint8_t> result_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_INSTANCE_RUNTIME_H_
