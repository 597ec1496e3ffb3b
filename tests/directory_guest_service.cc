// Guest B's side of the two-guest directory test (see
// tests/two_guest_directory.h): starts swiftd "guest-b" with the directory
// at guest A's etcd (it registers as soon as that etcd is up), listens on
// the echo service and answers every request of every accepted
// connection, until its guest is killed. Prints what it does; exits 1 when
// its swiftd or service cannot start or a request is malformed.
//
//   tools/rxe-vm/run --guests 2 --guest-b
//   'bazel-bin/tests/directory_guest_service' -- ...
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/command_testing.h"
#include "daemon/swiftd_server.h"
#include "swift/session.h"
#include "tests/two_guest_directory.h"
#include "tests/two_swiftd_fixture.h"

namespace swift::testing {
namespace {

void Fail(const std::string& what) {
  std::cout << "directory_guest_service: FAILED: " << what << std::endl;
  std::exit(1);
}

// Answers the requests of the `slot`-th accepted connection until the
// client closes it.
void Serve(std::unique_ptr<Connection> connection, int slot) {
  std::cout << "slot " << slot << ": accepted connection " << connection->id()
            << std::endl;
  uint8_t round = 0;
  while (!connection->peer_closed()) {
    const uint8_t next = round == 255 ? 1 : round + 1;
    absl::StatusOr<std::string> request = AwaitMessage(
        connection->buffer(), RequestOffset(slot), next, absl::Seconds(1));
    if (!request.ok()) continue;  // Idle; look whether it closed.
    if (*request != Message(slot, next)) {
      Fail(
          absl::StrCat("slot ", slot, ": unexpected request '", *request, "'"));
    }
    if (absl::Status written = WriteTo(*connection, Reply(*request),
                                       ReplyOffset(slot), StagingOffset(slot));
        !written.ok()) {
      std::cout << "slot " << slot << ": reply of round "
                << static_cast<int>(next) << " failed: " << written
                << std::endl;
      return;
    }
    round = next;
  }
  std::cout << "slot " << slot << ": closed by the client after "
            << static_cast<int>(round) << " rounds" << std::endl;
}

int Main() {
  TempDir dir;
  const SwiftdOptions swiftd_options =
      GuestSwiftdOptions(dir.path(), kGuestHostB);
  absl::StatusOr<std::unique_ptr<SwiftdServer>> swiftd =
      SwiftdServer::Start(swiftd_options);
  if (!swiftd.ok()) Fail(absl::StrCat("swiftd: ", swiftd.status().ToString()));
  SessionOptions options;
  options.socket_path = swiftd_options.socket_path;
  options.buffer_bytes = kGuestBufferBytes;
  options.pool_low = 2;
  options.pool_high = 4;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(options);
  if (!session.ok())
    Fail(absl::StrCat("session: ", session.status().ToString()));
  absl::StatusOr<std::unique_ptr<Listener>> listener =
      (*session)->Listen(kGuestService, 4);
  if (!listener.ok())
    Fail(absl::StrCat("listen: ", listener.status().ToString()));
  std::cout << "swiftd " << kGuestHostB << " up, listening on " << kGuestService
            << std::endl;
  std::vector<std::thread> servers;
  for (int slot = 0; slot < kMaxSlots;) {
    absl::StatusOr<std::unique_ptr<Connection>> accepted =
        (*listener)->Accept(absl::Seconds(5));
    if (absl::IsDeadlineExceeded(accepted.status())) continue;
    if (!accepted.ok())
      Fail(absl::StrCat("accept: ", accepted.status().ToString()));
    servers.emplace_back(Serve, *std::move(accepted), slot++);
  }
  Fail("more connections than slots");
  return 1;
}

}  // namespace
}  // namespace swift::testing

int main() { return swift::testing::Main(); }
