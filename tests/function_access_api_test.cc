// Function management over the Control API: swiftd decides as whom a
// function may run from the caller's kernel credentials, so registering
// and unregistering are served on the fast path only, and a user other
// than root may not name another user. (The policy itself is unit-tested
// in daemon/function_access_test.cc; this checks swiftd applies it to real
// callers on its sockets.)
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "proto/control_service.grpc.pb.h"
#include "swift/client.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::CommandResult;
using ::swift::testing::RunCommand;
using ::swift::testing::RunfilePath;
using ::swift::testing::TempDir;

constexpr uid_t kNobody = 65534;

// swiftd with a worker binary (never reached: every call here is refused
// before a worker would start), on a socket anyone may reach.
class FunctionAccessApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    SwiftdOptions options;
    options.socket_path = dir_.path() + "/swiftd.sock";
    options.socket_mode = 0666;
    options.worker_binary = "/bin/true";
    auto server = SwiftdServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<Client> Connect(bool use_fast_path) {
    ClientOptions options;
    options.socket_path = dir_.path() + "/swiftd.sock";
    options.attach = false;
    options.use_fast_path = use_fast_path;
    auto client = Client::Connect(options);
    return client.ok() ? *std::move(client) : nullptr;
  }

  static v1::RegisterFunctionRequest Function(uint32_t uid) {
    v1::RegisterFunctionRequest request;
    request.set_name("f");
    request.set_library_path("/nonexistent/f.so");
    request.set_uid(uid);
    return request;
  }

  TempDir dir_;
  std::unique_ptr<SwiftdServer> server_;
};

TEST_F(FunctionAccessApiTest, GrpcRefusesFunctionManagement) {
  auto channel = grpc::CreateChannel("unix:" + dir_.path() + "/swiftd.sock",
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Control::NewStub(channel);
  v1::RegisterFunctionRequest request = Function(0);
  request.mutable_header()->set_api_version(kControlApiVersion);
  v1::RegisterFunctionResponse response;
  grpc::ClientContext context;
  const grpc::Status status =
      stub->RegisterFunction(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "fast path"))
      << status.error_message();

  // And libswift without its fast path says what it needs.
  std::unique_ptr<Client> client = Connect(/*use_fast_path=*/false);
  ASSERT_NE(client, nullptr);
  absl::Status refused = client->RegisterFunction(Function(0)).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
}

TEST_F(FunctionAccessApiTest, AUserMayNotRunAFunctionAsAnotherUser) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to become another user";
  }
  // swiftctl as nobody (a copy: Bazel's tree is closed to other users).
  const std::string swiftctl = dir_.path() + "/swiftctl";
  ASSERT_EQ(
      RunCommand(absl::StrCat("cp ", RunfilePath("tools/swiftctl/swiftctl"),
                              " ", swiftctl, " && chmod 0755 ", swiftctl))
          .exit_code,
      0);
  const std::string as_nobody = absl::StrCat(
      "setpriv --reuid=", kNobody, " --regid=", kNobody, " --clear-groups ",
      swiftctl, " --socket=", dir_.path(), "/swiftd.sock ");

  const CommandResult other_user =
      RunCommand(as_nobody + "register f --library=/nonexistent/f.so --user=1");
  EXPECT_NE(other_user.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(other_user.err,
                                "uid 65534 may only register functions"))
      << other_user.err;

  const CommandResult unknown = RunCommand(as_nobody + "unregister f");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(unknown.err, "no function 'f'")) << unknown.err;

  // As itself it is allowed; here it then fails on the missing library.
  const CommandResult as_self =
      RunCommand(as_nobody + "register f --library=/nonexistent/f.so");
  EXPECT_NE(as_self.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(as_self.err, "no readable function library"))
      << as_self.err;
}

}  // namespace
}  // namespace swift
