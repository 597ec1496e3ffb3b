// TestSwiftd: a real swiftd (SwiftdServer) on a private socket for a test.
// TempDir, RunCommand and RunfilePath come from
// common/testing/command_testing.h.
#ifndef SWIFT_TESTS_TEST_SWIFTD_H_
#define SWIFT_TESTS_TEST_SWIFTD_H_

#include <memory>
#include <string>

#include "common/testing/command_testing.h"
#include "daemon/swiftd_server.h"
#include "gtest/gtest.h"

namespace swift::testing {

// Starts swiftd on <tempdir>/swiftd.sock; ASSERTs that it started.
class TestSwiftd {
 public:
  TestSwiftd() : socket_path_(dir_.path() + "/swiftd.sock") {
    SwiftdOptions options;
    options.socket_path = socket_path_;
    absl::StatusOr<std::unique_ptr<SwiftdServer>> server =
        SwiftdServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) {
      server_ = *std::move(server);
    }
  }

  bool ok() const { return server_ != nullptr; }
  SwiftdServer& server() { return *server_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& dir() const { return dir_.path(); }
  void Stop() { server_.reset(); }

 private:
  TempDir dir_;
  std::string socket_path_;
  std::unique_ptr<SwiftdServer> server_;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_TEST_SWIFTD_H_
