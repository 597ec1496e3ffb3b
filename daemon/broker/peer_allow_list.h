// PeerAllowList: the IP networks whose swiftds may broker with this one
// (swiftd --peer_allow, plus the hosts of --peers): the second gate of the
// Peer API after the cluster's secret (issue 10 finding 4), checked on
// every request that arrives (gRPC and the lean link) and before swiftd
// dials any address a client names, which bounds what a tenant can make
// swiftd dial.
//
// Entries are CIDRs ("10.77.0.0/24", "fd00::/64") or single addresses
// ("10.77.0.2" = /32). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, as a
// dual-stack socket reports IPv4 peers) are taken as the IPv4 address.
// Host names are never matched: an allow-list that depends on DNS answers
// is only as strong as the resolver.
//
// Immutable after construction; thread-safe.
#ifndef SWIFT_DAEMON_BROKER_PEER_ALLOW_LIST_H_
#define SWIFT_DAEMON_BROKER_PEER_ALLOW_LIST_H_

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift {

// An IPv4 or IPv6 address, IPv4-mapped IPv6 folded to IPv4.
struct IpAddress {
  bool v4 = true;
  // IPv4: the first 4 bytes; IPv6: all 16. Network byte order.
  std::array<uint8_t, 16> bytes{};

  // "10.0.0.1", "::1" (no port, no brackets); nullopt for anything else,
  // host names included.
  static std::optional<IpAddress> Parse(absl::string_view text);
  // The address of a connected socket's peer (getpeername()).
  static std::optional<IpAddress> OfPeer(int fd);
  // gRPC's ServerContext::peer(): "ipv4:10.0.0.1:5000",
  // "ipv6:[::1]:5000" (also URI-escaped, "ipv6:%5B::1%5D:5000").
  static std::optional<IpAddress> FromGrpcPeer(absl::string_view peer);
  // The host of "ip:port" / "[ip6]:port"; nullopt when it is not an IP.
  static std::optional<IpAddress> FromHostPort(absl::string_view address);

  std::string ToString() const;
};

class PeerAllowList final {
 public:
  // Parse()
  //
  // The list of `entries` (CIDRs or addresses). kInvalidArgument naming
  // the first entry that is neither, or whose prefix length is out of
  // range or has host bits set beyond it ("10.0.0.1/24": did the operator
  // mean the host or the network?).
  static absl::StatusOr<PeerAllowList> Parse(
      const std::vector<std::string>& entries);

  PeerAllowList() = default;  // Allows nothing.

  // Adds `address` as a single host (/32 or /128).
  void AddHost(const IpAddress& address);

  bool Allows(const IpAddress& address) const;
  bool empty() const { return networks_.empty(); }
  // The entries, as CIDRs, for logs ("10.0.0.0/24, 10.0.1.5/32").
  std::string ToString() const;

 private:
  struct Network {
    IpAddress base;
    int prefix = 0;
  };
  std::vector<Network> networks_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_PEER_ALLOW_LIST_H_
