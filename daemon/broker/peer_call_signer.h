// PeerCallSigner: signs every Peer API call made on a gRPC channel with
// the cluster's secret (a PeerCredential in the call's metadata, see
// peer_authenticator.h), as a client interceptor: the channel's owner
// (PeerDirectory) installs it once and every caller of the channel's
// stubs, the Broker's included, sends authenticated calls without knowing
// of it.
//
// It also checks the answer: a successful call whose reply does not carry
// the peer's MAC (trailing metadata kPeerReplyMetadata, over the reply and
// the call's nonce) ends UNAUTHENTICATED instead, so that a process that
// took a peer's address or port cannot answer as its swiftd. Calls to
// methods other than the Peer API's go unsigned (the peer then refuses
// them). Thread-safe; the authenticator must outlive every channel
// made with the factory.
#ifndef SWIFT_DAEMON_BROKER_PEER_CALL_SIGNER_H_
#define SWIFT_DAEMON_BROKER_PEER_CALL_SIGNER_H_

#include <grpcpp/support/client_interceptor.h>

#include "daemon/broker/peer_authenticator.h"

namespace swift {

class PeerCallSigner final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit PeerCallSigner(const PeerAuthenticator* authenticator)
      : authenticator_(authenticator) {}

  // One interceptor per call (gRPC owns and deletes it).
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override;

 private:
  const PeerAuthenticator* const authenticator_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_CALL_SIGNER_H_
