// A client of swiftd's fast path that speaks the protocol itself, for
// tests that must act as a plain process would without libswift (a
// tenant attacking another, a service with fake endpoints): greeted
// connections of any kind, one request and its answer, a Listen with fake
// endpoints.
#ifndef SWIFT_TESTS_RAW_FAST_PATH_H_
#define SWIFT_TESTS_RAW_FAST_PATH_H_

#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "proto/fast_path.pb.h"

namespace swift::testing {

// Sends `request` on `socket` and returns the answer, or its error status
// (swiftd's answer decoded), or the transport's error.
absl::StatusOr<v1::FastResponse> RawCall(SeqpacketSocket& socket,
                                         const v1::FastRequest& request);

// A connection to the fast path at `path`, greeted as client `name` on a
// channel of `kind`.
absl::StatusOr<SeqpacketSocket> OpenRaw(const std::string& path,
                                        const std::string& name,
                                        v1::FastHello::Channel kind);

// A connect to `service` on swiftd's own host ("self": swiftd brokers with
// itself on loopback) with a fake client endpoint, waiting `timeout`.
v1::FastRequest RawConnectRequest(const std::string& service,
                                  absl::Duration timeout);

// On a SERVICE channel: listens on `service` with `endpoints` fake
// endpoints (QP numbers from 0x100); the ListenReply's status.
absl::Status ListenRaw(SeqpacketSocket& channel, const std::string& service,
                       int endpoints);

// On a SERVICE channel that listens: `count` more fake endpoints (QP
// numbers from `first_qpn`), sent in messages that fit the fast path.
absl::Status AddRawEndpoints(SeqpacketSocket& channel, uint32_t first_qpn,
                             int count);

// An invocation of `function` through swiftd as a fast path call, in
// `mode`, with `payload` and a 20 s timeout.
v1::FastRequest RawInvokeRequest(const std::string& function,
                                 v1::InvokeRequest::Mode mode,
                                 const std::string& payload);

// The service application's side of a SERVICE channel: answers every
// accept on `channel` from a thread of its own until destroyed (which
// shuts the channel down).
class RawAcceptor {
 public:
  explicit RawAcceptor(SeqpacketSocket* channel);
  RawAcceptor(const RawAcceptor&) = delete;
  RawAcceptor& operator=(const RawAcceptor&) = delete;
  ~RawAcceptor();

 private:
  static void AnswerAccepts(SeqpacketSocket* channel);

  SeqpacketSocket* const channel_;
  std::thread thread_;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_RAW_FAST_PATH_H_
