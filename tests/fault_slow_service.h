// SlowService: a service that is slow to accept, spoken by hand on a
// SERVICE channel of swiftd's fast path (proto/fast_path.proto). It
// advertises one made-up endpoint and answers an AcceptEvent only when the
// test says so, which holds the connect that reached it mid-handshake:
// the client's swiftd waits for the peer, the peer swiftd waits for this
// service. The fault tests kill a client, or a swiftd, right there.
//
// Closing it (destruction) ends the service. Not thread-safe.
#ifndef SWIFT_TESTS_FAULT_SLOW_SERVICE_H_
#define SWIFT_TESTS_FAULT_SLOW_SERVICE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "proto/fast_path.pb.h"

namespace swift::testing {

class SlowService {
 public:
  // Listens on `service` through the swiftd of Control API socket
  // `socket`; the ListenReply's error if swiftd refused.
  static absl::StatusOr<SlowService> Open(const std::string& socket,
                                          const std::string& service);

  // The next message from swiftd; kDeadlineExceeded after `limit`,
  // kUnavailable when swiftd closed the channel.
  absl::StatusOr<v1::ServiceDown> Next(absl::Duration limit);

  // Answers AcceptEvent `event_id`: `code` 0 says the QP is in RTS.
  absl::Status Answer(uint64_t event_id, int32_t code,
                      const std::string& message = "");

 private:
  explicit SlowService(SeqpacketSocket channel)
      : channel_(std::move(channel)) {}

  SeqpacketSocket channel_;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_FAULT_SLOW_SERVICE_H_
