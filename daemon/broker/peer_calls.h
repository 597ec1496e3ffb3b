// Calls to another host's swiftd, on whichever transport its cached
// metadata offers (its lean peer link, else the gRPC Peer API), with the
// errors of both in one form: an error the peer answered carries the
// peer's words prefixed by "swiftd on <peer>: " and stays marked as an
// answer (peer_answer.h); a transport failure is kUnavailable or
// kDeadlineExceeded naming the host, unmarked.
#ifndef SWIFT_DAEMON_BROKER_PEER_CALLS_H_
#define SWIFT_DAEMON_BROKER_PEER_CALLS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/broker/peer_directory.h"
#include "proto/peer.pb.h"

namespace swift {

absl::StatusOr<peer::v1::ConnectResponse> CallPeerConnect(
    const PeerDirectory::Peer& peer, const peer::v1::ConnectRequest& request,
    absl::Time deadline);

absl::Status CallPeerClose(const PeerDirectory::Peer& peer,
                           const peer::v1::CloseRequest& request,
                           absl::Time deadline);

absl::StatusOr<peer::v1::WatchResponse> CallPeerWatch(
    const PeerDirectory::Peer& peer, const peer::v1::WatchRequest& request,
    absl::Time deadline);

// A status from PeerLinkClient in the form above.
absl::Status FromLinkStatus(const absl::Status& status,
                            const std::string& peer);

// Whether `status` (in the form above) says the peer may not have heard
// the call: the transport failed, rather than the peer answering.
bool PeerMayNotHaveHeard(const absl::Status& status);

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_CALLS_H_
