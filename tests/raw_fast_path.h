// A client of swiftd's fast path that speaks the protocol itself, for
// tests that must act as a plain process would without libswift (a
// tenant attacking another, a service with fake endpoints): greeted
// connections of any kind, one request and its answer, a Listen with fake
// endpoints.
#ifndef SWIFT_TESTS_RAW_FAST_PATH_H_
#define SWIFT_TESTS_RAW_FAST_PATH_H_

#include <string>

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

}  // namespace swift::testing

#endif  // SWIFT_TESTS_RAW_FAST_PATH_H_
