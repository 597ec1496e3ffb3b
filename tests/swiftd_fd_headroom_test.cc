// issue 10 finding 1, end to end: a swiftd process whose descriptors a
// local flood of fast path connections would exhaust. gRPC 1.51's listener
// stops for good after its first EMFILE, so the fast path must leave a
// reserve (--connection_fd_reserve): with every connection it allows
// taken, the Control API still answers GetStatus, the next fast path
// connection is refused with a clear error, and once the flood ends both
// serve again.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "common/unix_socket.h"
#include "common/version.h"
#include "proto/control_service.grpc.pb.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"
#include "tests/swiftd_process.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::RunfilePath;
using ::swift::testing::SwiftdProcess;
using ::swift::testing::TempDir;

constexpr rlim_t kFdLimit = 320;

// GetStatus on a new channel (a new connection the listener must accept).
grpc::Status GetStatus(const std::string& socket) {
  std::unique_ptr<v1::Control::Stub> stub =
      v1::Control::NewStub(grpc::CreateChannel(
          "unix:" + socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::GetStatusRequest request;
  request.mutable_header()->set_api_version(kControlApiVersion);
  v1::GetStatusResponse response;
  return stub->GetStatus(&context, request, &response);
}

// A fast path connection that said hello, or why not. Reads give up after
// 2 s: an unanswered hello (a connection left in the backlog) is kUnavailable.
absl::StatusOr<SeqpacketSocket> Greeted(const std::string& path) {
  absl::StatusOr<SeqpacketSocket> socket = SeqpacketSocket::Connect(path);
  if (!socket.ok()) {
    return socket.status();
  }
  const timeval timeout = {2, 0};
  setsockopt(socket->fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  v1::FastRequest hello;
  hello.mutable_hello()->set_api_version(kControlApiVersion);
  hello.mutable_hello()->set_client_name("swiftd_fd_headroom_test");
  // A refused connection may be closed before the hello is sent; the
  // refusal is still queued to be read (as libswift reads it).
  const absl::Status sent = socket->Send(hello.SerializeAsString());
  absl::StatusOr<SeqpacketSocket::Message> message = socket->Receive();
  if (!sent.ok() && !message.ok()) {
    return sent;
  }
  if (!message.ok()) {
    return absl::UnavailableError(
        absl::StrCat("no answer to the hello: ", message.status().message()));
  }
  v1::FastResponse response;
  if (!response.ParseFromString(message->data)) {
    return absl::InternalError("malformed hello answer");
  }
  if (absl::Status answered = DecodeStatus(response); !answered.ok()) {
    return answered;
  }
  return socket;
}

TEST(SwiftdFdHeadroomTest, ControlApiOutlivesAFastPathFlood) {
  TempDir dir;
  const std::string socket = dir.path() + "/swiftd.sock";
  const std::string fast_path = FastPathSocketPath(socket);
  // RLIMIT_NOFILE at kFdLimit, soft and hard (so that raising the soft
  // limit at start changes nothing).
  SwiftdProcess::Options options;
  options.socket = socket;
  options.log = dir.path() + "/log";
  options.flags = {"--state_dir=", "--max_fast_path_connections=100000",
                   "--max_fast_path_connections_per_uid=0",
                   "--connection_fd_reserve=64"};
  options.fd_limit = kFdLimit;
  SwiftdProcess swiftd(options);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!GetStatus(socket).ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(GetStatus(socket).ok())
      << testing::ReadWholeFile(dir.path() + "/log");

  // Connections until swiftd stops taking them (bounded: it has kFdLimit
  // descriptors in all).
  std::vector<SeqpacketSocket> flood;
  absl::Status refusal;
  for (rlim_t i = 0; i < kFdLimit + 16; ++i) {
    absl::StatusOr<SeqpacketSocket> connection = Greeted(fast_path);
    if (!connection.ok()) {
      refusal = connection.status();
      break;
    }
    flood.push_back(*std::move(connection));
  }
  EXPECT_GT(flood.size(), 100u);
  EXPECT_EQ(refusal.code(), absl::StatusCode::kResourceExhausted) << refusal;
  EXPECT_TRUE(absl::StrContains(refusal.message(), "file descriptors"))
      << refusal;

  // The flood holds every connection swiftd allows: the Control API still
  // accepts and answers.
  grpc::Status during = GetStatus(socket);
  EXPECT_TRUE(during.ok()) << during.error_message();
  EXPECT_TRUE(swiftd.Alive());

  flood.clear();
  absl::SleepFor(absl::Milliseconds(500));  // swiftd ends their threads.
  grpc::Status after = GetStatus(socket);
  EXPECT_TRUE(after.ok()) << after.error_message();
  absl::StatusOr<SeqpacketSocket> again = Greeted(fast_path);
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(swiftd.Alive());
}

}  // namespace
}  // namespace swift
