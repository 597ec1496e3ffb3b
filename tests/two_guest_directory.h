// The contract between the two sides of the two-guest directory test
// (tools/rxe-vm/run --guests 2, each guest its own kernel and rxe0):
//   guest A: etcd, swiftd "guest-a" and the test
//            (directory_guests_rdma_test);
//   guest B: swiftd "guest-b" and an echo service
//            (directory_guest_service), which runs until its guest is
//            killed.
// The two share nothing but these constants, etcd and the RDMA wire: B
// finds etcd at A's IP, A finds B's service in the directory.
//
// Echo protocol: A's i-th connection to the service writes a
// kMessageBytes message (Message()) into B's buffer at RequestOffset(i);
// B's i-th accepted connection answers with Reply() at ReplyOffset(i) of
// A's buffer. The last byte of both is the round (1..255, never 0), so a
// reader polling it sees a whole message land.
#ifndef SWIFT_TESTS_TWO_GUEST_DIRECTORY_H_
#define SWIFT_TESTS_TWO_GUEST_DIRECTORY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/swiftd_server.h"

namespace swift::testing {

inline constexpr uint16_t kGuestEtcdPort = 23790;
inline constexpr int kGuestPeerPort = 17490;
inline constexpr char kGuestService[] = "dir-echo";
inline constexpr char kGuestHostA[] = "guest-a";
inline constexpr char kGuestHostB[] = "guest-b";
// Short, so that a dead guest leaves quickly (the goal: within 2 s).
inline constexpr absl::Duration kGuestDirectoryTtl = absl::Seconds(1);

inline constexpr size_t kMessageBytes = 64;
inline constexpr int kMaxSlots = 16;
// Each session's buffer: requests, replies and staging apart.
inline constexpr size_t kGuestBufferBytes = 16384;
inline size_t RequestOffset(int slot) { return 1024 + slot * kMessageBytes; }
inline size_t ReplyOffset(int slot) { return 4096 + slot * kMessageBytes; }
inline size_t StagingOffset(int slot) { return 8192 + slot * kMessageBytes; }

// The options of this guest's swiftd: its rxe0, its Peer API on RXE_IP,
// the other guest allowed as a peer with a secret both know, and the
// directory at guest A's etcd. `dir` holds the sockets.
SwiftdOptions GuestSwiftdOptions(const std::string& dir,
                                 const std::string& host_name);

// A's request for `slot` in `round`, and B's answer to a request.
std::string Message(int slot, uint8_t round);
std::string Reply(const std::string& request);

// Waits until the message at `offset` of `buffer` ends in `round`, then
// returns it; kDeadlineExceeded after `timeout`.
absl::StatusOr<std::string> AwaitMessage(const uint8_t* buffer, size_t offset,
                                         uint8_t round, absl::Duration timeout);

}  // namespace swift::testing

#endif  // SWIFT_TESTS_TWO_GUEST_DIRECTORY_H_
