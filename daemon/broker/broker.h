// Broker: the local side of brokered connections. A local application's
// Connect goes through admission control to the remote host's swiftd
// (PeerDirectory), and the connection is recorded until it is closed.
//
// Connections die with the fast path connection they were made on (the
// client process exiting closes it): the remote service recycles their
// QPs, so nothing stays half-connected. Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_BROKER_H_
#define SWIFT_DAEMON_BROKER_BROKER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/broker/admission_controller.h"
#include "daemon/broker/defaults.h"
#include "daemon/broker/peer_directory.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/fast_path.pb.h"

namespace swift {

class Broker final {
 public:
  struct ConnectionView {
    uint64_t id = 0;
    std::string peer;
    std::string service;
    uint64_t server_connection_id = 0;
    int64_t client_pid = 0;
    std::string client_name;
    absl::Time connected_at;
    absl::Duration handshake_time;
  };

  struct Counters {
    uint64_t connected = 0;
    uint64_t closed = 0;
    // Failed connects by reason (status code name).
    absl::flat_hash_map<std::string, uint64_t> failed;
  };

  // `peers` and `admission` must outlive the broker. Connects without a
  // timeout of their own wait `default_timeout`.
  Broker(PeerDirectory* peers, AdmissionController* admission,
         absl::Duration default_timeout = kDefaultHandshakeTimeout);
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;
  // Finishes the remote closes still queued (each batch bounded by the
  // default timeout), then stops the closer thread.
  ~Broker();

  // Connect()
  //
  // Brokers `call` for `caller` with the remote swiftd and returns the
  // service's endpoint. Errors: kInvalidArgument (bad host or endpoint),
  // kUnavailable (peer down), kNotFound (no such service there),
  // kResourceExhausted (its pool is empty, or too many queued here),
  // kDeadlineExceeded, kFailedPrecondition (version mismatch).
  absl::StatusOr<v1::ConnectResult> Connect(const FastPathCaller& caller,
                                            const v1::ConnectCall& call);

  // Close(): ends connection `id` here at once (kNotFound for an unknown
  // id); telling the remote swiftd, whose service recycles its QP, happens
  // on a background thread, off the caller's path.
  absl::Status Close(uint64_t id);

  // Closes every connection made on fast path connection `channel_id`.
  void CloseAllOf(uint64_t channel_id);

  std::vector<ConnectionView> Connections() const;
  Counters GetCounters() const;

 private:
  struct Connection {
    ConnectionView view;
    uint64_t channel_id = 0;
    uint64_t peer_incarnation = 0;
  };

  // Tells `connections`' peers of their close: per peer, one pipelined
  // batch over its lean link (or one gRPC call each); logs failures.
  void CloseRemote(std::vector<Connection> connections);
  // One Connect/Close to `peer`: over its lean link when it has one, else
  // over gRPC.
  static absl::StatusOr<peer::v1::ConnectResponse> CallConnect(
      const PeerDirectory::Peer& peer, const peer::v1::ConnectRequest& request,
      absl::Time deadline);
  static absl::Status CallClose(const PeerDirectory::Peer& peer,
                                const peer::v1::CloseRequest& request,
                                absl::Time deadline);
  void CountFailure(const absl::Status& status);
  void CloserLoop();

  PeerDirectory* const peers_;
  AdmissionController* const admission_;
  const absl::Duration default_timeout_;
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Connection> connections_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
  // Connections whose remote side still has to hear of the close; the
  // closer thread takes them in batches, so a burst of closes costs the
  // peer link about one round trip, not one each.
  std::deque<Connection> to_close_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread closer_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_BROKER_H_
