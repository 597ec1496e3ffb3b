// The preload's hand-made fast-path messages against the generated code
// (proto/fast_path.proto is the contract), and its shared-context call
// against a fake swiftd: the fd swiftd attaches arrives, refusals and a
// missing swiftd give a reason, nothing is left open.
#include "client/preload/shared_context_request.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "client/preload/fast_path_wire.h"
#include "client/testing/fake_swiftd.h"
#include "common/unique_fd.h"
#include "common/version.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"

namespace swift {
namespace {

static_assert(kSwiftWireApiVersion == kControlApiVersion,
              "the preload's hello must speak swiftd's API version");

int OpenFdCount() {
  DIR* dir = opendir("/proc/self/fd");
  int count = 0;
  while (dir != nullptr && readdir(dir) != nullptr) ++count;
  if (dir != nullptr) closedir(dir);
  return count;
}

TEST(FastPathWireTest, TheHelloIsAFastRequestWithAHello) {
  char buffer[256];
  const size_t length =
      swift_wire_hello(1, "swift_preload", 123456, buffer, sizeof(buffer));
  ASSERT_GT(length, 0u);
  v1::FastRequest request;
  ASSERT_TRUE(request.ParseFromArray(buffer, static_cast<int>(length)));
  EXPECT_EQ(request.call_id(), 1u);
  ASSERT_TRUE(request.has_hello());
  EXPECT_EQ(request.hello().api_version(), kControlApiVersion);
  EXPECT_EQ(request.hello().client_name(), "swift_preload");
  EXPECT_EQ(request.hello().pid(), 123456);
  EXPECT_EQ(request.hello().channel(), v1::FastHello::CALLS);
  EXPECT_EQ(request.SerializeAsString(), std::string(buffer, length))
      << "the same bytes protobuf writes";
}

TEST(FastPathWireTest, TheShareCallIsAFastRequestWithShareContext) {
  char buffer[256];
  const size_t length =
      swift_wire_share_context(300, "mlx5_0", buffer, sizeof(buffer));
  ASSERT_GT(length, 0u);
  v1::FastRequest request;
  ASSERT_TRUE(request.ParseFromArray(buffer, static_cast<int>(length)));
  EXPECT_EQ(request.call_id(), 300u);
  ASSERT_TRUE(request.has_share_context());
  EXPECT_EQ(request.share_context().device(), "mlx5_0");
  EXPECT_EQ(request.SerializeAsString(), std::string(buffer, length));
  // What does not fit is not written.
  EXPECT_EQ(swift_wire_share_context(300, "mlx5_0", buffer, 8), 0u);
  EXPECT_EQ(swift_wire_hello(1, "swift_preload", 1, buffer, 10), 0u);
}

TEST(FastPathWireTest, ReadsTheAnswersFieldsAndSkipsTheRest) {
  v1::FastResponse response;
  response.set_call_id(2);
  response.mutable_share_context()->set_context_id(9);
  response.mutable_share_context()->set_pd_handle(77);
  response.mutable_share_context()->set_from_pool(true);
  response.mutable_share_context()->set_share_us(1234);
  const std::string bytes = response.SerializeAsString();
  swift_wire_response parsed;
  ASSERT_EQ(swift_wire_parse_response(bytes.data(), bytes.size(), &parsed), 0);
  EXPECT_EQ(parsed.call_id, 2u);
  EXPECT_EQ(parsed.code, 0);
  EXPECT_TRUE(parsed.has_share_context);
  EXPECT_FALSE(parsed.has_hello);
  EXPECT_EQ(parsed.context_id, 9u);
  EXPECT_EQ(parsed.pd_handle, 77u);

  v1::FastResponse hello;
  hello.set_call_id(1);
  hello.mutable_hello()->set_api_version(1);
  hello.mutable_hello()->set_device("rxe0");
  hello.mutable_hello()->mutable_port_address()->set_gid(std::string(16, 'g'));
  const std::string hello_bytes = hello.SerializeAsString();
  ASSERT_EQ(swift_wire_parse_response(hello_bytes.data(), hello_bytes.size(),
                                      &parsed),
            0);
  EXPECT_TRUE(parsed.has_hello);
}

TEST(FastPathWireTest, ReadsARefusalsCodeAndMessage) {
  v1::FastResponse response;
  response.set_call_id(2);
  response.set_code(9);
  response.set_message(std::string(1000, 'x'));
  const std::string bytes = response.SerializeAsString();
  swift_wire_response parsed;
  ASSERT_EQ(swift_wire_parse_response(bytes.data(), bytes.size(), &parsed), 0);
  EXPECT_EQ(parsed.code, 9);
  EXPECT_EQ(std::string(parsed.message),
            std::string(kSwiftWireMessageMax - 1, 'x'))
      << "cut to fit";
}

TEST(FastPathWireTest, RefusesMalformedBytes) {
  v1::FastResponse response;
  response.set_message("truncated");
  const std::string bytes = response.SerializeAsString();
  swift_wire_response parsed;
  EXPECT_EQ(swift_wire_parse_response(bytes.data(), bytes.size() - 2, &parsed),
            -1);
  const char bad_varint[] = {'\x08', '\xff', '\xff'};
  EXPECT_EQ(swift_wire_parse_response(bad_varint, sizeof(bad_varint), &parsed),
            -1);
  const char group[] = {'\x0b'};  // Field 1, a start group: not proto3.
  EXPECT_EQ(swift_wire_parse_response(group, sizeof(group), &parsed), -1);
  EXPECT_EQ(swift_wire_parse_response("", 0, &parsed), 0) << "empty is valid";
}

// The call's connection is closed and nothing else stays open here but
// the fake's own end, which it keeps until it is destroyed.
void ExpectClosedByClient(FakeSwiftd& swiftd, int baseline) {
  for (int i = 0; i < 1000 && swiftd.closed_by_client() == 0; ++i) {
    usleep(1000);
  }
  EXPECT_EQ(swiftd.closed_by_client(), 1);
  EXPECT_EQ(OpenFdCount(), baseline + swiftd.accepted());
}

std::optional<std::string> ShareAnswer(const v1::FastRequest& request) {
  v1::FastResponse response = AnswerOf(request);
  if (request.has_share_context()) {
    if (request.share_context().device() != "mlx5_0") {
      response.set_code(
          static_cast<int>(absl::StatusCode::kFailedPrecondition));
      response.set_message(
          "share_context: rxe0's provider (rxe) cannot import");
    } else {
      response.mutable_share_context()->set_context_id(4);
      response.mutable_share_context()->set_pd_handle(77);
    }
  }
  return response.SerializeAsString();
}

TEST(SharedContextRequestTest, ReturnsTheFdSwiftdAttached) {
  FakeSwiftd swiftd(ShareAnswer);
  const UniqueFd context_file(memfd_create("fake-context", MFD_CLOEXEC));
  swiftd.set_attached_fd(context_file.get());
  const int baseline = OpenFdCount();
  uint32_t pd_handle = 0;
  char why[256] = "";
  const int fd = swift_request_shared_context(swiftd.path().c_str(), "mlx5_0",
                                              &pd_handle, why, sizeof(why));
  ASSERT_GE(fd, 0) << why;
  EXPECT_EQ(pd_handle, 77u);
  struct stat sent = {}, received = {};
  ASSERT_EQ(fstat(context_file.get(), &sent), 0);
  ASSERT_EQ(fstat(fd, &received), 0);
  EXPECT_EQ(sent.st_ino, received.st_ino);
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  close(fd);
  ExpectClosedByClient(swiftd, baseline);
}

TEST(SharedContextRequestTest, SaysWhyWhenSwiftdRefuses) {
  FakeSwiftd swiftd(ShareAnswer);
  const UniqueFd context_file(memfd_create("fake-context", MFD_CLOEXEC));
  swiftd.set_attached_fd(context_file.get());  // Even with an fd attached.
  const int baseline = OpenFdCount();
  uint32_t pd_handle = 0;
  char why[256] = "";
  EXPECT_EQ(swift_request_shared_context(swiftd.path().c_str(), "rxe0",
                                         &pd_handle, why, sizeof(why)),
            -1);
  EXPECT_TRUE(absl::StrContains(why, "cannot import")) << why;
  ExpectClosedByClient(swiftd, baseline);
}

TEST(SharedContextRequestTest, SaysWhyWithoutSwiftdOrAnswer) {
  uint32_t pd_handle = 0;
  char why[256] = "";
  EXPECT_EQ(
      swift_request_shared_context("/nonexistent/swiftd.fast.sock", "mlx5_0",
                                   &pd_handle, why, sizeof(why)),
      -1);
  EXPECT_TRUE(absl::StrContains(why, "cannot reach swiftd")) << why;

  FakeSwiftd silent([](const v1::FastRequest&) { return std::nullopt; });
  EXPECT_EQ(swift_request_shared_context(silent.path().c_str(), "mlx5_0",
                                         &pd_handle, why, sizeof(why)),
            -1);
  EXPECT_TRUE(absl::StrContains(why, "no answer from swiftd")) << why;
}

TEST(SharedContextRequestTest, FindsTheFastPathBesideTheHints) {
  char path[64];
  ASSERT_EQ(
      swift_fast_path_beside("/run/swift/preload.hints", path, sizeof(path)),
      0);
  EXPECT_STREQ(path, "/run/swift/swiftd.fast.sock");
  ASSERT_EQ(swift_fast_path_beside("preload.hints", path, sizeof(path)), 0);
  EXPECT_STREQ(path, "./swiftd.fast.sock");
  EXPECT_EQ(swift_fast_path_beside("/run/swift/preload.hints", path, 10), -1);
}

}  // namespace
}  // namespace swift
