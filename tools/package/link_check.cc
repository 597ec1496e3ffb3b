// link_check: a program built outside Bazel against the installed swift
// package (headers in /usr/include/swift, libswift.a, swift.pc), the way an
// application would; tools/package/check compiles, links and runs it.
//
//   link_check refused SOCKET   nothing listens on SOCKET: both halves of
//                               libswift must refuse with a status
//                               (Client::Connect kUnavailable,
//                               Session::Create any error), and the wait
//                               modes link (a null CQ is refused);
//   link_check status SOCKET    a swiftd listens on SOCKET: GetStatus()
//                               must answer; prints its version.
// Prints one line per call; exits 0 when the outcome is the expected one,
// 1 otherwise, 2 on a usage error.
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "swift/client.h"
#include "swift/session.h"
#include "swift/wait.h"

namespace {

int ExpectRefused(const char* socket_path) {
  swift::ClientOptions client_options;
  client_options.socket_path = socket_path;
  const absl::StatusOr<std::unique_ptr<swift::Client>> client =
      swift::Client::Connect(client_options);
  std::printf("Client::Connect: %s\n", client.status().ToString().c_str());

  swift::SessionOptions session_options;
  session_options.socket_path = socket_path;
  const absl::StatusOr<std::unique_ptr<swift::Session>> session =
      swift::Session::Create(session_options);
  std::printf("Session::Create: %s\n", session.status().ToString().c_str());

  const absl::StatusOr<std::unique_ptr<swift::CqWaiter>> waiter =
      swift::CqWaiter::Create(nullptr);
  std::printf("CqWaiter::Create: %s\n", waiter.status().ToString().c_str());
  return absl::IsUnavailable(client.status()) && !session.ok() &&
                 absl::IsInvalidArgument(waiter.status())
             ? 0
             : 1;
}

int ExpectStatus(const char* socket_path) {
  swift::ClientOptions options;
  options.socket_path = socket_path;
  absl::StatusOr<std::unique_ptr<swift::Client>> client =
      swift::Client::Connect(options);
  if (!client.ok()) {
    std::printf("Client::Connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  const absl::StatusOr<swift::DaemonStatus> status = (*client)->GetStatus();
  if (!status.ok()) {
    std::printf("GetStatus: %s\n", status.status().ToString().c_str());
    return 1;
  }
  std::printf("GetStatus: swiftd %s, pid %lld, %u devices\n",
              status->version.c_str(), static_cast<long long>(status->pid),
              status->devices_count);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "refused") == 0) {
    return ExpectRefused(argv[2]);
  }
  if (argc == 3 && std::strcmp(argv[1], "status") == 0) {
    return ExpectStatus(argv[2]);
  }
  std::fprintf(stderr, "usage: link_check refused|status SOCKET\n");
  return 2;
}
