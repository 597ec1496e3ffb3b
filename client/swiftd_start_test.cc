// SwiftdStart (the swiftd half of Session::Create()) against a fake swiftd
// and against none: the device it names, what it hands over, and its
// errors. No device: the buffer is the session's own memfd.
#include "client/swiftd_start.h"

#include <string>

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

}  // namespace
}  // namespace swift
