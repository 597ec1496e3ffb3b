// QpEndpoint wire form: round trips exactly, rejects what is not an endpoint.
#include "common/verbs/endpoint.h"

#include <gtest/gtest.h>

#include "common/verbs/gid.h"

namespace swift::verbs {
namespace {

QpEndpoint SampleEndpoint() {
  QpEndpoint endpoint;
  endpoint.qpn = 0x123456;
  endpoint.psn = 0xabcdef;
  endpoint.gid = *ParseGid("::ffff:10.77.0.1");
  endpoint.gid_index = 1;
  endpoint.lid = 0;
  endpoint.mtu = IBV_MTU_4096;
  endpoint.buffer = RemoteBuffer{0x7f0011223344ull, 65536, 0xdeadbeef};
  return endpoint;
}

TEST(EndpointTest, RoundTripsEveryField) {
  const QpEndpoint endpoint = SampleEndpoint();
  const std::string wire = EncodeEndpoint(endpoint);
  EXPECT_EQ(wire.size(), kEncodedEndpointSize);
  absl::StatusOr<QpEndpoint> decoded = DecodeEndpoint(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, endpoint);
  EXPECT_EQ(GidToString(decoded->gid), "::ffff:10.77.0.1");
}

TEST(EndpointTest, RoundTripsAbsentOptionalsAndUdQkey) {
  QpEndpoint endpoint;
  endpoint.qpn = 7;
  endpoint.qkey = 0x11111111;
  endpoint.lid = 0xbeef;
  absl::StatusOr<QpEndpoint> decoded = DecodeEndpoint(EncodeEndpoint(endpoint));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, endpoint);
  EXPECT_FALSE(decoded->gid_index.has_value());
  EXPECT_FALSE(decoded->buffer.has_value());
}

TEST(EndpointTest, EncodingIsBigEndianAtFixedOffsets) {
  const std::string wire = EncodeEndpoint(SampleEndpoint());
  EXPECT_EQ(wire.substr(0, 4), "SWEP");
  EXPECT_EQ(wire[4], 1);                                             // Version.
  EXPECT_EQ(wire.substr(8, 4), std::string("\x00\x12\x34\x56", 4));  // QPN.
}

TEST(EndpointTest, RejectsWrongSizeMagicAndVersion) {
  std::string wire = EncodeEndpoint(SampleEndpoint());
  EXPECT_EQ(DecodeEndpoint(wire.substr(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string bad_magic = wire;
  bad_magic[0] = 'X';
  EXPECT_EQ(DecodeEndpoint(bad_magic).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string future = wire;
  future[4] = 2;
  absl::Status status = DecodeEndpoint(future).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("version 2"), absl::string_view::npos);
}

TEST(EndpointTest, RejectsOutOfRangeQpnAndMtu) {
  QpEndpoint endpoint = SampleEndpoint();
  endpoint.qpn = 0x1000000;  // 25 bits.
  EXPECT_EQ(DecodeEndpoint(EncodeEndpoint(endpoint)).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string wire = EncodeEndpoint(SampleEndpoint());
  wire[6] = 9;  // Not an ibv_mtu.
  EXPECT_EQ(DecodeEndpoint(wire).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EndpointTest, ToStringNamesTheEssentials) {
  const std::string text = EndpointToString(SampleEndpoint());
  EXPECT_NE(text.find("qpn=0x123456"), std::string::npos) << text;
  EXPECT_NE(text.find("::ffff:10.77.0.1 (index 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("mtu=4096"), std::string::npos) << text;
  EXPECT_NE(text.find("rkey=0xdeadbeef"), std::string::npos) << text;
}

TEST(EndpointTest, MinMtuIsThePathMtu) {
  EXPECT_EQ(MinMtu(IBV_MTU_4096, IBV_MTU_1024), IBV_MTU_1024);
  EXPECT_EQ(MinMtu(IBV_MTU_256, IBV_MTU_2048), IBV_MTU_256);
  EXPECT_EQ(MinMtu(IBV_MTU_1024, IBV_MTU_1024), IBV_MTU_1024);
}

}  // namespace
}  // namespace swift::verbs
