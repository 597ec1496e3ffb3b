// Peer answers: an error a peer swiftd ANSWERED (its handler or its gate
// refused the call) told apart from a failure to reach it, which carry the
// same codes (kUnavailable: "service went away during the handshake" is an
// answer; "connection refused" is the transport).
//
// Why it matters: the Broker forgets a peer's cached metadata (its Hello:
// incarnation, devices, services) only when the peer may be gone or
// restarted. Forgetting it for an answer (issue 10, finding 11) left
// `swiftctl peers` without the peer's services for minutes while connects
// kept succeeding, and cost a Hello for nothing.
//
// How: the status is marked with a payload (kPeerAnswerPayload) where the
// answer is decoded, on the link by PeerLinkClient (every LinkResponse is
// an answer) and on gRPC by FromPeerGrpc(), which finds the PeerError the
// serving swiftd put in the status's details (ToPeerGrpc()); gRPC's own
// failures have no details. A payload rather than a code of our own, so
// that callers keep branching on the standard codes. Only our own peers
// send PeerError details; a mark is a hint for caching, never trusted for
// access.
//
// Thread-safe (pure functions).
#ifndef SWIFT_DAEMON_BROKER_PEER_ANSWER_H_
#define SWIFT_DAEMON_BROKER_PEER_ANSWER_H_

#include <grpcpp/support/status.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "proto/peer.pb.h"

namespace swift {
namespace peer_answer_internal {

// `status` with the mark `payload` (OK stays OK: only errors are marked).
inline absl::Status Marked(absl::Status status, absl::string_view payload) {
  if (!status.ok()) {
    status.SetPayload(payload, absl::Cord("1"));
  }
  return status;
}

inline bool HasMark(const absl::Status& status, absl::string_view payload) {
  return !status.ok() && status.GetPayload(payload).has_value();
}

}  // namespace peer_answer_internal

inline constexpr absl::string_view kPeerAnswerPayload =
    "type.googleapis.com/swift.peer.v1.PeerError";

// MarkPeerAnswer(): `status` marked as the peer's answer (OK stays OK).
inline absl::Status MarkPeerAnswer(absl::Status status) {
  return peer_answer_internal::Marked(std::move(status), kPeerAnswerPayload);
}

// A call that never left: dialing the peer failed (refused, unreachable),
// so nothing was sent, and calling again cannot do anything twice. A peer
// that restarted listens on a new link port: the dial to the one cached
// with its metadata is refused, and the call is worth making again with
// fresh metadata.
inline constexpr absl::string_view kPeerNotReachedPayload =
    "type.googleapis.com/swift.peer.v1.NotReached";

// MarkNotReached(): `status` marked as a call that never left (OK stays OK).
inline absl::Status MarkNotReached(absl::Status status) {
  return peer_answer_internal::Marked(std::move(status),
                                      kPeerNotReachedPayload);
}

// IsNotReached(): whether `status` is a call that never left.
inline bool IsNotReached(const absl::Status& status) {
  return peer_answer_internal::HasMark(status, kPeerNotReachedPayload);
}

// IsPeerAnswer(): whether `status` is an error the peer answered (see
// above); false for OK and for transport failures.
inline bool IsPeerAnswer(const absl::Status& status) {
  return peer_answer_internal::HasMark(status, kPeerAnswerPayload);
}

// ToPeerGrpc(): the serving side's conversion of its answer: code and
// message, and for an error a PeerError in the details.
inline grpc::Status ToPeerGrpc(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  peer::v1::PeerError error;
  error.set_code(static_cast<int>(status.code()));
  error.set_message(std::string(status.message()));
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()), error.SerializeAsString());
}

// FromPeerGrpc(): the calling side's: code and message, marked as the
// peer's answer when the details carry a PeerError of the same code.
inline absl::Status FromPeerGrpc(const grpc::Status& status) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  absl::Status converted(static_cast<absl::StatusCode>(status.error_code()),
                         status.error_message());
  peer::v1::PeerError error;
  if (!status.error_details().empty() &&
      error.ParseFromString(status.error_details()) &&
      error.code() == static_cast<int>(status.error_code())) {
    return MarkPeerAnswer(std::move(converted));
  }
  return converted;
}

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_ANSWER_H_
