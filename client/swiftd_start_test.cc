// SwiftdStart (the swiftd half of Session::Create()) against a fake swiftd
// and against none: the device it names, what it hands over, and its
// errors. No device: the buffer is the session's own memfd.
#include "client/swiftd_start.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "client/testing/fake_swiftd.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

SessionOptions OwnBufferOptions(const std::string& socket_path) {
  SessionOptions options;
  options.socket_path = socket_path;
  options.buffer_bytes = 64 * 1024;
  options.lease_buffer = false;
  return options;
}

TEST(SwiftdStartTest, NamesSwiftdsDeviceAndHandsOverItsConnection) {
  FakeSwiftd swiftd(Answer);
  SwiftdStart start(OwnBufferOptions(swiftd.control_socket_path()), "t");
  absl::StatusOr<std::string> device = start.Device();
  ASSERT_TRUE(device.ok()) << device.status();
  EXPECT_EQ(*device, "fake0");
  absl::StatusOr<SwiftdStart::Result> result = start.Finish();
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_NE(result->fast_path, nullptr);
  EXPECT_EQ(result->fast_path->hello().device(), "fake0");
  ASSERT_TRUE(result->buffer.has_value());
  EXPECT_FALSE(result->buffer->leased());
  EXPECT_GE(result->buffer->size(), 64u * 1024);
  EXPECT_EQ(swiftd.accepted(), 1);
  // Once only.
  EXPECT_EQ(start.Finish().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SwiftdStartTest, ANamedDeviceIsKnownWithoutWaitingForSwiftd) {
  SessionOptions options = OwnBufferOptions("/nonexistent/swiftd.sock");
  options.device = "rxe7";
  SwiftdStart start(options, "t");
  absl::StatusOr<std::string> device = start.Device();
  ASSERT_TRUE(device.ok()) << device.status();
  EXPECT_EQ(*device, "rxe7");
  // swiftd's absence still ends the start, with the reason.
  absl::StatusOr<SwiftdStart::Result> result = start.Finish();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(result.status().message(),
                                "cannot reach swiftd at /nonexistent/"))
      << result.status();
}

TEST(SwiftdStartTest, NoSwiftdFailsTheDeviceToo) {
  SwiftdStart start(OwnBufferOptions("/nonexistent/swiftd.sock"), "t");
  EXPECT_EQ(start.Device().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(start.Finish().status().code(), absl::StatusCode::kUnavailable);
}

// The hello's port address reaches the device half, without a wait, for
// swiftd's own device only, and only when it is one a port could have.
TEST(SwiftdStartTest, OffersTheHellosPortAddressForSwiftdsDevice) {
  FakeSwiftd swiftd(Answer);
  v1::CachedPortAddress cached;
  cached.set_port_num(1);
  cached.set_link_layer(IBV_LINK_LAYER_ETHERNET);
  cached.set_active_mtu(IBV_MTU_1024);
  cached.set_gid_index(3);
  const unsigned char gid[16] = {0, 0, 0,    0,    0,  0,  0, 0,
                                 0, 0, 0xff, 0xff, 10, 77, 0, 1};
  cached.set_gid(gid, sizeof(gid));
  swiftd.set_hello_port(cached);
  SwiftdStart start(OwnBufferOptions(swiftd.control_socket_path()), "t");
  ASSERT_TRUE(start.Finish().ok());
  std::optional<verbs::PortAddress> port = start.PortAddress("fake0");
  ASSERT_TRUE(port.has_value());
  EXPECT_EQ(port->port_num, 1);
  EXPECT_EQ(port->link_layer, IBV_LINK_LAYER_ETHERNET);
  EXPECT_EQ(port->active_mtu, IBV_MTU_1024);
  EXPECT_EQ(port->gid_index, 3u);
  EXPECT_EQ(std::memcmp(port->gid.raw, gid, sizeof(gid)), 0);
  // Another device (SessionOptions::device) queries its own port.
  EXPECT_FALSE(start.PortAddress("rxe7").has_value());
}

TEST(SwiftdStartTest, IgnoresAPortAddressNoPortCouldHave) {
  v1::CachedPortAddress valid;
  valid.set_port_num(1);
  valid.set_link_layer(IBV_LINK_LAYER_ETHERNET);
  valid.set_active_mtu(IBV_MTU_1024);
  valid.set_gid(std::string(16, '\0'));
  std::vector<v1::CachedPortAddress> invalid(6, valid);
  invalid[0].set_gid("short");
  invalid[1].set_active_mtu(0);
  invalid[2].set_active_mtu(6);
  invalid[3].set_link_layer(0);
  invalid[4].set_port_num(0);
  invalid[5].set_gid_index(256);
  for (const v1::CachedPortAddress& cached : invalid) {
    FakeSwiftd swiftd(Answer);
    swiftd.set_hello_port(cached);
    SwiftdStart start(OwnBufferOptions(swiftd.control_socket_path()), "t");
    ASSERT_TRUE(start.Finish().ok());
    EXPECT_FALSE(start.PortAddress("fake0").has_value())
        << cached.ShortDebugString();
  }
}

// A hello without one offers none.
TEST(SwiftdStartTest, AHelloWithoutAPortAddressOffersNone) {
  FakeSwiftd swiftd(Answer);
  SwiftdStart start(OwnBufferOptions(swiftd.control_socket_path()), "t");
  ASSERT_TRUE(start.Finish().ok());
  EXPECT_FALSE(start.PortAddress("fake0").has_value());
}

}  // namespace
}  // namespace swift
