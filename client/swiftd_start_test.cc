// SwiftdStart (the swiftd half of Session::Create()) against a fake swiftd
// and against none: the device it names, what it hands over, and its
// errors. No device: the buffer is the session's own memfd.
#include "client/swiftd_start.h"

#include <sys/mman.h>
#include <sys/stat.h>

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

// A device the hints list as shared: its context is asked for right after
// the hello, and what swiftd attached is what the device half gets.
TEST(SwiftdStartTest, AsksForASharedContextOfAShareableDevice) {
  std::vector<std::string> asked;
  absl::Mutex mu;
  FakeSwiftd swiftd([&](const v1::FastRequest& request) {
    v1::FastResponse response = AnswerOf(request);
    if (request.has_share_context()) {
      absl::MutexLock lock(&mu);
      asked.push_back(request.share_context().device());
      response.mutable_share_context()->set_context_id(9);
      response.mutable_share_context()->set_pd_handle(77);
      response.mutable_share_context()->set_from_pool(true);
    }
    return std::optional<std::string>(response.SerializeAsString());
  });
  const UniqueFd context_file(memfd_create("fake-context", MFD_CLOEXEC));
  swiftd.set_attached_fd(context_file.get());
  SwiftdStart start(OwnBufferOptions(swiftd.control_socket_path()), "t",
                    {"other0", "fake0"});
  absl::StatusOr<SharedContextGrant> grant = start.SharedContext();
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->pd_handle, 77u);
  EXPECT_EQ(grant->context_id, 9u);
  EXPECT_TRUE(grant->from_pool);
  struct stat sent = {}, received = {};
  ASSERT_EQ(fstat(context_file.get(), &sent), 0);
  ASSERT_EQ(fstat(grant->command_fd.get(), &received), 0);
  EXPECT_EQ(sent.st_ino, received.st_ino) << "the fd swiftd attached";
  EXPECT_TRUE(start.Finish().ok());
  absl::MutexLock lock(&mu);
  EXPECT_EQ(asked, std::vector<std::string>{"fake0"});
  // Once only.
  EXPECT_EQ(start.SharedContext().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SwiftdStartTest, AsksNothingForADeviceSwiftdDoesNotShare) {
  bool asked = false;
  absl::Mutex mu;
  FakeSwiftd swiftd([&](const v1::FastRequest& request) {
    absl::MutexLock lock(&mu);
    asked = asked || request.has_share_context();
    return Answer(request);
  });
  SwiftdStart start(OwnBufferOptions(swiftd.control_socket_path()), "t",
                    {"mlx5_0"});
  absl::StatusOr<SharedContextGrant> grant = start.SharedContext();
  EXPECT_EQ(grant.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(grant.status().message(), "cannot import"))
      << grant.status();
  EXPECT_TRUE(start.Finish().ok());
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(asked);
}

TEST(SwiftdStartTest, SwiftdsRefusalReachesTheDeviceHalfAndTheStartGoesOn) {
  FakeSwiftd swiftd([](const v1::FastRequest& request) {
    v1::FastResponse response = AnswerOf(request);
    if (request.has_share_context()) {
      response.set_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
      response.set_message(
          "share_context: uid 1000 holds 64 shared device contexts, the most "
          "--max_shared_contexts_per_tenant allows");
    }
    return std::optional<std::string>(response.SerializeAsString());
  });
  SwiftdStart start(OwnBufferOptions(swiftd.control_socket_path()), "t",
                    {"fake0"});
  absl::StatusOr<SharedContextGrant> grant = start.SharedContext();
  EXPECT_EQ(grant.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(grant.status().message(),
                                "--max_shared_contexts_per_tenant"));
  EXPECT_TRUE(start.Finish().ok()) << "the session opens its own context";
}

TEST(SwiftdStartTest, NoSwiftdFailsTheSharedContextToo) {
  SwiftdStart start(OwnBufferOptions("/nonexistent/swiftd.sock"), "t",
                    {"fake0"});
  EXPECT_EQ(start.SharedContext().status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(start.Finish().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace swift
