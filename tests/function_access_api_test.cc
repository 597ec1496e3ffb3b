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
#include "absl/strings/str_replace.h"
#include "client/control/control_client.h"
#include "common/version.h"
#include "proto/control_service.grpc.pb.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::AsUser;
using ::swift::testing::CommandResult;
using ::swift::testing::CopyRunfileForAnyone;
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

  std::unique_ptr<ControlClient> Connect(bool use_fast_path) {
    ClientOptions options;
    options.socket_path = dir_.path() + "/swiftd.sock";
    options.attach = false;
    options.use_fast_path = use_fast_path;
    auto client = ControlClient::Connect(options);
    return client.ok() ? *std::move(client) : nullptr;
  }

  static v1::RegisterFunctionRequest Function(uint32_t uid) {
    v1::RegisterFunctionRequest request;
    request.set_name("f");
    request.set_library_path("/nonexistent/f.so");
    request.set_uid(uid);
    return request;
  }

  // The command prefix that runs swiftctl as nobody against this swiftd,
  // on a copy of swiftctl (Bazel's tree is closed to other users).
  std::string SwiftctlAsNobody() {
    const std::string swiftctl =
        CopyRunfileForAnyone("tools/swiftctl/swiftctl", dir_.path());
    EXPECT_FALSE(swiftctl.empty());
    return absl::StrCat(AsUser(kNobody), swiftctl, " --socket=", dir_.path(),
                        "/swiftd.sock ");
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
  std::unique_ptr<ControlClient> client = Connect(/*use_fast_path=*/false);
  ASSERT_NE(client, nullptr);
  absl::Status refused = client->RegisterFunction(Function(0)).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
}

TEST_F(FunctionAccessApiTest, AUserMayNotRunAFunctionAsAnotherUser) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to become another user";
  }
  const std::string as_nobody = SwiftctlAsNobody();

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

// Issue 10, finding 8: `swiftctl register --user=root` as a user other
// than root was quietly given the caller's own uid; now it is refused.
// (swiftctl marks an explicit --user with run_as_set.)
TEST_F(FunctionAccessApiTest, AUserMayNotAskForRoot) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to become another user";
  }
  const std::string as_nobody = SwiftctlAsNobody();
  for (const char* user : {"root", "0"}) {
    const CommandResult refused = RunCommand(absl::StrCat(
        as_nobody, "register f --library=", "/nonexistent/f.so --user=", user));
    EXPECT_NE(refused.exit_code, 0) << user;
    EXPECT_TRUE(absl::StrContains(refused.err, "not as root"))
        << user << ": " << refused.err;
  }
}

// Issue 10, finding 8: swiftd checked the library as root before the
// tenant checks, so a user told an existing file it may not read from a
// missing one by the error. Now both read the same.
TEST_F(FunctionAccessApiTest, ALibraryAUserMayNotReadLooksMissing) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to become another user";
  }
  const std::string hidden_dir = dir_.path() + "/private";
  ASSERT_EQ(RunCommand(absl::StrCat("mkdir -m 0700 ", hidden_dir, " && touch ",
                                    hidden_dir, "/x.so"))
                .exit_code,
            0);
  const std::string as_nobody = SwiftctlAsNobody() + "register f ";
  const std::string hidden = hidden_dir + "/x.so";
  const std::string missing = hidden_dir + "/nonexistent.so";
  const CommandResult unreadable =
      RunCommand(as_nobody + "--library=" + hidden);
  const CommandResult absent = RunCommand(as_nobody + "--library=" + missing);
  EXPECT_NE(unreadable.exit_code, 0);
  EXPECT_EQ(unreadable.exit_code, absent.exit_code);
  EXPECT_EQ(absl::StrReplaceAll(unreadable.err, {{hidden, "PATH"}}),
            absl::StrReplaceAll(absent.err, {{missing, "PATH"}}));
  EXPECT_TRUE(absl::StrContains(unreadable.err, "no readable function library"))
      << unreadable.err;
}

// Issue 10, finding 2: any user who reached the socket ran root's function,
// as root, with their own payload. Now only root and the function's user
// may invoke it, through swiftd or a direct channel; gRPC, which cannot
// tell who calls, refuses invocations.
TEST(FunctionInvokeAccessTest, OnlyTheFunctionsUserAndRootMayInvokeIt) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to become another user";
  }
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  // A stub worker (no verbs) serves the function: a copy nobody can run.
  const std::string worker = dir.path() + "/stub_worker";
  const std::string swiftctl = dir.path() + "/swiftctl";
  ASSERT_EQ(
      RunCommand(absl::StrCat(
                     "cp ", RunfilePath("daemon/functions/testing/stub_worker"),
                     " ", worker, " && cp ",
                     RunfilePath("tools/swiftctl/swiftctl"), " ", swiftctl,
                     " && chmod 0755 ", worker, " ", swiftctl, " && touch ",
                     dir.path(), "/f.so && chmod 0644 ", dir.path(), "/f.so"))
          .exit_code,
      0);
  SwiftdOptions options;
  options.socket_path = dir.path() + "/swiftd.sock";
  options.socket_mode = 0666;
  options.worker_binary = worker;
  auto server = SwiftdServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string as_root =
      absl::StrCat(swiftctl, " --socket=", options.socket_path, " ");
  const std::string as_nobody = AsUser(kNobody) + as_root;
  const CommandResult registered =
      RunCommand(as_root + "register f --library=" + dir.path() + "/f.so");
  ASSERT_EQ(registered.exit_code, 0) << registered.err;

  for (const char* mode : {"fork", "warm", "cold"}) {
    const CommandResult refused =
        RunCommand(as_nobody + "invoke f --payload=mine --mode=" + mode);
    EXPECT_NE(refused.exit_code, 0) << mode;
    EXPECT_TRUE(
        absl::StrContains(refused.err, "only that user or root may invoke it"))
        << mode << ": " << refused.err;
    const CommandResult allowed =
        RunCommand(as_root + "invoke f --payload=mine --mode=" + mode);
    EXPECT_EQ(allowed.exit_code, 0) << mode << ": " << allowed.err;
    EXPECT_TRUE(absl::StrContains(allowed.out, "echo:mine"))
        << mode << ": " << allowed.out;
  }

  auto channel = grpc::CreateChannel("unix:" + options.socket_path,
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Control::NewStub(channel);
  v1::InvokeRequest request;
  request.mutable_header()->set_api_version(kControlApiVersion);
  request.set_function("f");
  v1::InvokeResponse response;
  grpc::ClientContext context;
  const grpc::Status status = stub->Invoke(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();
}

}  // namespace
}  // namespace swift
