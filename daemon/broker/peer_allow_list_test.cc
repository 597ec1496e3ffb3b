// Host tests for PeerAllowList and IpAddress: CIDR parsing and matching,
// the address forms gRPC and sockets report, and refusals of entries that
// are not addresses (host names are never matched).
#include "daemon/broker/peer_allow_list.h"

#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

IpAddress Ip(const char* text) {
  std::optional<IpAddress> ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(IpAddress());
}

TEST(PeerAllowListTest, MatchesNetworksAndHosts) {
  absl::StatusOr<PeerAllowList> list =
      PeerAllowList::Parse({"10.77.0.0/24", "192.168.1.7", "fd00::/64"});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->Allows(Ip("10.77.0.1")));
  EXPECT_TRUE(list->Allows(Ip("10.77.0.255")));
  EXPECT_FALSE(list->Allows(Ip("10.77.1.1")));
  EXPECT_TRUE(list->Allows(Ip("192.168.1.7")));
  EXPECT_FALSE(list->Allows(Ip("192.168.1.8")));
  EXPECT_TRUE(list->Allows(Ip("fd00::1234")));
  EXPECT_FALSE(list->Allows(Ip("fd00:0:0:1::1")));
  EXPECT_FALSE(list->Allows(Ip("127.0.0.1")));  // Loopback only if listed.
  // A dual-stack socket's view of an IPv4 peer.
  EXPECT_TRUE(list->Allows(Ip("::ffff:10.77.0.9")));
  EXPECT_EQ(list->ToString(), "10.77.0.0/24, 192.168.1.7/32, fd00::/64");
}

TEST(PeerAllowListTest, OddPrefixesAndEverything) {
  absl::StatusOr<PeerAllowList> list =
      PeerAllowList::Parse({"10.0.0.128/25", "0.0.0.0/0"});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->Allows(Ip("8.8.8.8")));
  EXPECT_FALSE(list->Allows(Ip("::1")));  // /0 of IPv4 is not IPv6.
  absl::StatusOr<PeerAllowList> half = PeerAllowList::Parse({"10.0.0.128/25"});
  ASSERT_TRUE(half.ok());
  EXPECT_TRUE(half->Allows(Ip("10.0.0.200")));
  EXPECT_FALSE(half->Allows(Ip("10.0.0.127")));
}

TEST(PeerAllowListTest, RefusesWhatIsNotACidr) {
  for (const char* bad :
       {"swift-b.example.com", "10.0.0.1/33", "10.0.0.1/24", "10.0.0.0/",
        "10.0.0.0/x", "", "::1/129", "::ffff:10.0.0.0/104", "10.0.0.0/-1"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(PeerAllowList::Parse({bad}).status()))
        << bad;
  }
  // Host bits set: the message says both readings.
  absl::Status mixed = PeerAllowList::Parse({"10.0.0.1/24"}).status();
  EXPECT_NE(mixed.message().find("10.0.0.0/24"), std::string::npos) << mixed;
  EXPECT_FALSE(PeerAllowList().Allows(Ip("10.0.0.1")));
}

TEST(PeerAllowListTest, ParsesTheAddressFormsCallersReport) {
  EXPECT_EQ(IpAddress::FromGrpcPeer("ipv4:127.0.0.1:5000")->ToString(),
            "127.0.0.1");
  EXPECT_EQ(IpAddress::FromGrpcPeer("ipv6:[::1]:5000")->ToString(), "::1");
  EXPECT_EQ(IpAddress::FromGrpcPeer("ipv6:%5B::1%5D:5000")->ToString(), "::1");
  EXPECT_EQ(IpAddress::FromGrpcPeer("ipv6:[::ffff:10.1.2.3]:5000")->ToString(),
            "10.1.2.3");
  EXPECT_FALSE(IpAddress::FromGrpcPeer("unix:/run/x.sock").has_value());
  EXPECT_FALSE(IpAddress::FromGrpcPeer("").has_value());
  EXPECT_EQ(IpAddress::FromHostPort("10.0.0.2:7000")->ToString(), "10.0.0.2");
  EXPECT_EQ(IpAddress::FromHostPort("[fd00::2]:7000")->ToString(), "fd00::2");
  EXPECT_FALSE(IpAddress::FromHostPort("localhost:7000").has_value());
  EXPECT_FALSE(IpAddress::FromHostPort("10.0.0.2").has_value());
  EXPECT_FALSE(IpAddress::FromHostPort("10.0.0.2:99999").has_value());
  EXPECT_FALSE(IpAddress::FromHostPort("fd00::2:7000").has_value());
}

TEST(PeerAllowListTest, ReadsASocketsPeer) {
  absl::StatusOr<UniqueFd> listener = ListenTcp(HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<uint16_t> port = LocalPort(listener->get());
  ASSERT_TRUE(port.ok());
  absl::StatusOr<UniqueFd> client = ConnectTcp(HostPort{"127.0.0.1", *port});
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<UniqueFd> accepted = AcceptTcp(listener->get());
  ASSERT_TRUE(accepted.ok());
  std::optional<IpAddress> peer = IpAddress::OfPeer(accepted->get());
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->ToString(), "127.0.0.1");
  EXPECT_FALSE(IpAddress::OfPeer(-1).has_value());
}

}  // namespace
}  // namespace swift
