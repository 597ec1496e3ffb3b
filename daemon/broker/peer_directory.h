// PeerDirectory: the other hosts' swiftds this one brokers with, and the
// metadata cached about them (incarnation, devices, services).
//
// A peer's gRPC channel is opened on first use and kept. Its metadata comes
// from one Hello and stays cached (a hit) until Invalidate(): on a changed
// incarnation (the peer restarted) or an unreachable peer.
//
// With a PeerGate (swiftd always passes one), an address a client names is
// checked against the allow-list before anything is dialled or cached, and
// every call to a peer, on gRPC (PeerCallSigner) and on the link, carries
// a credential made with the cluster's secret. Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_PEER_DIRECTORY_H_
#define SWIFT_DAEMON_BROKER_PEER_DIRECTORY_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/broker/host_resolver.h"
#include "daemon/broker/peer_gate.h"
#include "daemon/broker/peer_link_client.h"
#include "proto/peer.grpc.pb.h"

namespace swift {

class PeerDirectory final {
 public:
  // One remote swiftd. The stub is thread-safe and lives as long as the
  // directory; `hello` is the cached metadata.
  struct Peer {
    std::string address;
    std::unique_ptr<peer::v1::Peer::Stub> stub;
    peer::v1::HelloResponse hello;
    // The lean link for Connect/Close; null when the peer has none.
    std::unique_ptr<PeerLinkClient> link;
  };

  // Where a peer's address came from.
  enum class Source { kPeersFlag, kDirectory, kAddress };
  static const char* SourceName(Source source);

  struct PeerView {
    std::string name;
    std::string address;
    Source source = Source::kAddress;
    uint64_t incarnation = 0;  // 0 before the first Hello.
    std::vector<std::string> devices;
    std::vector<std::string> services;
    absl::Time refreshed;
    uint64_t cache_hits = 0;
    uint64_t cache_misses = 0;
    std::string last_error;
    // Connect/Close calls made to it (CountCall()), and those that failed.
    uint64_t calls = 0;
    uint64_t call_errors = 0;
  };

  // `names`: peer name -> "ip:port" (from --peers); any "ip:port" the
  // gate allows also works as a host without a name, and so does a name
  // `resolver` knows (the cluster directory; null: none), whose address the
  // gate checks like a client's. `gate` (null: no checks, no credentials;
  // for tests of other things) and `resolver` must outlive the directory.
  PeerDirectory(uint64_t incarnation, std::string self_address,
                absl::flat_hash_map<std::string, std::string> names,
                PeerGate* gate = nullptr, HostResolver* resolver = nullptr);
  PeerDirectory(const PeerDirectory&) = delete;
  PeerDirectory& operator=(const PeerDirectory&) = delete;

  // Get()
  //
  // The peer called `host` (a name or "ip:port") with its metadata, from the
  // cache or with a Hello bounded by `deadline`. kInvalidArgument: `host`
  // is neither a known name nor "ip:port" (and there is no directory);
  // the directory's kNotFound or kUnavailable for a name it does not
  // hold (HostResolver::ResolveHost); kPermissionDenied: the gate
  // does not allow dialling it (nothing was dialled); kUnavailable: the
  // peer does not answer; the Hello's own error otherwise (e.g.
  // kUnauthenticated: the peer does not accept our credentials).
  absl::StatusOr<std::shared_ptr<const Peer>> Get(const std::string& host,
                                                  absl::Time deadline);

  // Invalidate(): forgets the cached metadata of `address` (keeps the
  // channel); the next Get() says Hello again.
  void Invalidate(const std::string& address, const std::string& reason);

  // Troubled(): `address`'s metadata was forgotten for a failure (or its
  // host left the directory) and no Hello has worked since.
  bool Troubled(const std::string& address) const;

  // CountCall(): counts one Connect/Close call to `address` (a known
  // peer's; others are not counted) that ended with `status`.
  void CountCall(const std::string& address, const absl::Status& status);

  // SetNames(): new peer names (a config reload). Cached peers stay;
  // their names follow the new map.
  void SetNames(absl::flat_hash_map<std::string, std::string> names)
      ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<PeerView> List() const;
  uint64_t incarnation() const { return incarnation_; }

 private:
  struct Entry {
    std::string name;
    Source source = Source::kAddress;
    std::shared_ptr<grpc::Channel> channel;
    std::shared_ptr<const Peer> peer;  // Null until a Hello succeeded.
    absl::Time refreshed;
    uint64_t hits = 0;
    uint64_t misses = 0;
    std::string last_error;
    uint64_t calls = 0;
    uint64_t call_errors = 0;
  };

  // The address `host` names, and where it came from.
  absl::StatusOr<std::string> Resolve(const std::string& host,
                                      Source* source) const
      ABSL_LOCKS_EXCLUDED(mu_);

  const uint64_t incarnation_;
  const std::string self_address_;
  PeerGate* const gate_;
  HostResolver* const resolver_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> names_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_DIRECTORY_H_
