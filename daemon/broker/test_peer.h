// TestPeer (tests only): the serving side of a swiftd on localhost, for
// host tests of the broker stack: a ServiceRegistry, its PeerHandler, the
// gRPC Peer API on 127.0.0.1 and (optionally) the lean peer link. No
// devices, no RDMA. Restart() brings it back with a new incarnation on the
// same port, as a restarted swiftd would be. Its PeerGate is the test's, or
// by default an insecure one that admits 127.0.0.1 (no credentials).
#ifndef SWIFT_DAEMON_BROKER_TEST_PEER_H_
#define SWIFT_DAEMON_BROKER_TEST_PEER_H_

#include <grpcpp/server.h>

#include <cstdint>
#include <memory>
#include <string>

#include "daemon/broker/peer_gate.h"
#include "daemon/broker/peer_handler.h"
#include "daemon/broker/peer_link_server.h"
#include "daemon/broker/peer_service.h"
#include "daemon/broker/service_registry.h"

namespace swift {

class TestPeer final {
 public:
  // Serves on a free port with `incarnation`; with `link`, also the link.
  // `gate` (null: the default above) must outlive the peer.
  TestPeer(uint64_t incarnation, bool link, PeerGate* gate = nullptr);
  ~TestPeer() { Stop(); }

  // "127.0.0.1:port" of the Peer API.
  const std::string& address() const { return address_; }
  ServiceRegistry& registry() { return *registry_; }
  PeerHandler& handler() { return *handler_; }
  PeerGate& gate() { return *gate_; }
  // Null without a link.
  PeerLinkServer* link() { return link_.get(); }

  // An insecure gate that admits 127.0.0.1 without credentials: the
  // default, also for tests that serve the link themselves.
  static std::unique_ptr<PeerGate> InsecureLoopbackGate();

  // Stops serving (the peer is down); the registry stays.
  void Stop();
  // Serves again on the same port as incarnation `incarnation`, with a new
  // registry (a restarted swiftd knows no services yet).
  void Restart(uint64_t incarnation);
  // Serves again on the same port, the same swiftd (incarnation and
  // registry kept): its host was unreachable for a while.
  void Resume();

 private:
  void Serve(uint64_t incarnation);

  const bool with_link_;
  std::unique_ptr<PeerGate> own_gate_;
  PeerGate* gate_;
  int port_ = 0;
  std::string address_;
  std::unique_ptr<ServiceRegistry> registry_;
  std::unique_ptr<PeerHandler> handler_;
  std::unique_ptr<PeerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<PeerLinkServer> link_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_TEST_PEER_H_
