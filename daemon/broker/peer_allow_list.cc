// PeerAllowList implementation; see peer_allow_list.h.
#include "daemon/broker/peer_allow_list.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace swift {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

IpAddress FromV6Bytes(const uint8_t* bytes) {
  IpAddress address;
  if (std::memcmp(bytes, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
    address.v4 = true;
    std::memcpy(address.bytes.data(), bytes + 12, 4);
  } else {
    address.v4 = false;
    std::memcpy(address.bytes.data(), bytes, 16);
  }
  return address;
}

int Bits(const IpAddress& address) { return address.v4 ? 32 : 128; }

// Whether the first `prefix` bits of `a` and `b` are equal.
bool SamePrefix(const IpAddress& a, const IpAddress& b, int prefix) {
  const int whole = prefix / 8;
  if (std::memcmp(a.bytes.data(), b.bytes.data(), whole) != 0) {
    return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) {
    return true;
  }
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (b.bytes[whole] & mask);
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(absl::string_view text) {
  const std::string copy(text);
  IpAddress address;
  in_addr v4;
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    address.v4 = true;
    std::memcpy(address.bytes.data(), &v4, 4);
    return address;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    return FromV6Bytes(v6.s6_addr);
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::OfPeer(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return std::nullopt;
  }
  IpAddress address;
  if (storage.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
    address.v4 = true;
    std::memcpy(address.bytes.data(), &v4->sin_addr, 4);
    return address;
  }
  if (storage.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    return FromV6Bytes(v6->sin6_addr.s6_addr);
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::FromHostPort(absl::string_view address) {
  absl::string_view host;
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos ||
        address.substr(close + 1, 1) != ":") {
      return std::nullopt;
    }
    host = address.substr(1, close - 1);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) {
      return std::nullopt;
    }
    host = address.substr(0, colon);
    if (absl::StrContains(host, ':')) {
      return std::nullopt;  // IPv6 needs brackets before a port.
    }
  }
  uint32_t port = 0;
  const size_t colon = address.rfind(':');
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port > 65535) {
    return std::nullopt;
  }
  return Parse(host);
}

std::optional<IpAddress> IpAddress::FromGrpcPeer(absl::string_view peer) {
  if (absl::ConsumePrefix(&peer, "ipv4:")) {
    return FromHostPort(peer);
  }
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    const std::string unescaped =
        absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5D", "]"}, {"%5b", "["},
                                   {"%5d", "]"}});
    return FromHostPort(unescaped);
  }
  return std::nullopt;  // unix:, or a transport we do not know.
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof(text)) ==
      nullptr) {
    return "?";
  }
  return text;
}

absl::StatusOr<PeerAllowList> PeerAllowList::Parse(
    const std::vector<std::string>& entries) {
  PeerAllowList list;
  for (const std::string& entry : entries) {
    const size_t slash = entry.find('/');
    const std::optional<IpAddress> base =
        IpAddress::Parse(absl::string_view(entry).substr(0, slash));
    if (!base.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "peer allow-list entry '", entry,
          "' is not an IP address or CIDR (like 10.77.0.0/24 or 10.77.0.2)"));
    }
    Network network{*base, Bits(*base)};
    if (slash != std::string::npos) {
      int prefix = -1;
      // A mapped IPv6 CIDR (::ffff:10.0.0.0/104) is not worth the
      // arithmetic: write it as IPv4.
      const bool mapped = base->v4 && absl::StrContains(entry.substr(0, slash), ':');
      if (mapped || !absl::SimpleAtoi(entry.substr(slash + 1), &prefix) ||
          prefix < 0 || prefix > Bits(*base)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "peer allow-list entry '", entry, "' has a bad prefix length"));
      }
      network.prefix = prefix;
      IpAddress masked = *base;
      for (int bit = prefix; bit < Bits(*base); ++bit) {
        masked.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
      }
      if (masked.bytes != base->bytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "peer allow-list entry '", entry,
            "' has host bits set: write the network (", masked.ToString(), "/",
            prefix, ") or the host alone (", base->ToString(), ")"));
      }
    }
    list.networks_.push_back(network);
  }
  return list;
}

void PeerAllowList::AddHost(const IpAddress& address) {
  networks_.push_back(Network{address, Bits(address)});
}

bool PeerAllowList::Allows(const IpAddress& address) const {
  for (const Network& network : networks_) {
    if (network.base.v4 == address.v4 &&
        SamePrefix(network.base, address, network.prefix)) {
      return true;
    }
  }
  return false;
}

std::string PeerAllowList::ToString() const {
  if (networks_.empty()) {
    return "(nobody)";
  }
  return absl::StrJoin(networks_, ", ",
                       [](std::string* out, const Network& network) {
                         absl::StrAppend(out, network.base.ToString(), "/",
                                         network.prefix);
                       });
}

}  // namespace swift
