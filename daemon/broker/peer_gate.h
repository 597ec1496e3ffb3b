// PeerGate: who may broker with this swiftd, checked in one place for the
// gRPC Peer API, the lean link and the dialling side (issue 10 finding 4).
//
// Two gates, both required:
//   - the address: the caller's IP (or, when dialling, the address a
//     client named) must be in the allow-list (PeerAllowList:
//     --peer_allow plus the hosts of --peers); else kPermissionDenied.
//     Dialling checks it before any socket is opened, so a tenant cannot
//     make swiftd dial an arbitrary host (loopback included: it is not
//     allowed unless listed);
//   - the credential: with the cluster's secret (PeerAuthenticator), every
//     request must carry a valid, fresh, unreplayed PeerCredential; else
//     kUnauthenticated. Without a secret (insecure mode: --insecure_peers,
//     for tests and development only) no credential is asked or sent.
// Every refusal is counted by kind and logged at most once per
// log_interval (a flood must not flood the log); admitted requests are
// counted too, in total and per caller IP (for `swiftctl peers`; the
// first kMaxCountedAddresses addresses seen, so that a flood from many
// addresses cannot grow swiftd: later ones count in the totals only).
//
// Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_PEER_GATE_H_
#define SWIFT_DAEMON_BROKER_PEER_GATE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/broker/peer_allow_list.h"
#include "daemon/broker/peer_authenticator.h"
#include "google/protobuf/message.h"
#include "proto/peer.pb.h"

namespace swift {

struct PeerGateOptions {
  // The cluster's secret (the bytes of --peer_secret_file); empty: none.
  std::string secret;
  // Broker without a secret (--insecure_peers). Refused without it when
  // `secret` is empty, so that no swiftd brokers unauthenticated by
  // omission.
  bool insecure = false;
  // --peer_allow: CIDRs or addresses.
  std::vector<std::string> allow;
  // The "ip:port" addresses of --peers: their IPs are allowed too, and
  // dialling them is allowed whatever their host (an operator named them).
  std::vector<std::string> named_peers;
  // Credentials stamped further than this from our clock are refused.
  absl::Duration max_skew = PeerAuthenticator::kDefaultMaxSkew;
  size_t replay_capacity = PeerReplayGuard::kDefaultCapacity;
  absl::Duration log_interval = absl::Seconds(10);
};

class PeerGate final {
 public:
  struct Counters {
    uint64_t admitted = 0;
    // Requests from addresses outside the allow-list.
    uint64_t refused_address = 0;
    // Requests without a valid credential (missing, wrong secret, altered).
    uint64_t refused_credential = 0;
    // Valid credentials refused as stale or replayed.
    uint64_t refused_replay = 0;
    // Addresses a client named that swiftd refused to dial.
    uint64_t refused_dial = 0;
  };

  // Create()
  //
  // kFailedPrecondition without a secret unless `insecure`;
  // kInvalidArgument for a bad allow-list entry or secret.
  static absl::StatusOr<std::unique_ptr<PeerGate>> Create(
      const PeerGateOptions& options);

  PeerGate(const PeerGate&) = delete;
  PeerGate& operator=(const PeerGate&) = delete;

  // Admit()
  //
  // Whether `request` to `method` may be served for a caller at `peer`
  // (null: its address is unknown, refused) with `credential` (null: none
  // sent). kPermissionDenied (address) or kUnauthenticated (credential),
  // counted and logged; OK counted as admitted.
  absl::Status Admit(absl::string_view method,
                     const google::protobuf::Message& request,
                     const peer::v1::PeerCredential* credential,
                     const std::optional<IpAddress>& peer);

  // CheckDial()
  //
  // Whether swiftd may dial `address` ("ip:port") that a client named.
  // `named`: it came from --peers (always allowed). kPermissionDenied,
  // counted, otherwise.
  absl::Status CheckDial(const std::string& address, bool named);

  // The signer of outgoing requests; null in insecure mode.
  const PeerAuthenticator* authenticator() const {
    return authenticator_.get();
  }
  bool secure() const { return authenticator_ != nullptr; }
  // The allow-list now, and a new one (a config reload: it applies to the
  // requests and dials from now on; connections made stay).
  PeerAllowList allow_list() const ABSL_LOCKS_EXCLUDED(mu_);
  void SetAllowList(PeerAllowList allow) ABSL_LOCKS_EXCLUDED(mu_);
  // --peer_allow's entries plus the hosts of --peers' addresses.
  // kInvalidArgument for a bad entry, or when that allows nobody.
  static absl::StatusOr<PeerAllowList> BuildAllowList(
      const std::vector<std::string>& allow,
      const std::vector<std::string>& named_peers);
  // Every caller's, and the caller at `ip`'s (zero when never seen, or
  // seen after the first kMaxCountedAddresses).
  Counters counters() const;
  Counters CountersOf(const IpAddress& ip) const;
  static constexpr size_t kMaxCountedAddresses = 1024;

 private:
  PeerGate(std::unique_ptr<PeerAuthenticator> authenticator,
           PeerAllowList allow, absl::Duration log_interval)
      : authenticator_(std::move(authenticator)),
        log_interval_(log_interval),
        allow_(std::move(allow)) {}

  bool Allows(const IpAddress& ip) const ABSL_LOCKS_EXCLUDED(mu_);
  // Counts `why` in `counter` (in total and for `ip`) and logs it unless
  // logged recently.
  absl::Status Refuse(uint64_t Counters::*counter, absl::Status why,
                      absl::string_view what,
                      const std::optional<IpAddress>& ip);
  // Counts one in `counter` for `ip` (mu_ held), within the bound.
  void CountFor(const std::optional<IpAddress>& ip, uint64_t Counters::*counter)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<PeerAuthenticator> authenticator_;
  const absl::Duration log_interval_;
  mutable absl::Mutex mu_;
  PeerAllowList allow_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
  // Per caller IP (text form), at most kMaxCountedAddresses.
  absl::flat_hash_map<std::string, Counters> by_address_ ABSL_GUARDED_BY(mu_);
  absl::Time last_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t unlogged_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_GATE_H_
