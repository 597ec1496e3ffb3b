// The two-guest directory test's shared contract; see two_guest_directory.h.
#include "tests/two_guest_directory.h"

#include <atomic>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/rdma_test_env.h"

namespace swift::testing {

SwiftdOptions GuestSwiftdOptions(const std::string& dir,
                                 const std::string& host_name) {
  const std::string own_ip = EnvOr("RXE_IP", "");
  const std::string peer_ip = EnvOr("RXE_PEER_IP", "");
  const std::string etcd_ip = EnvOr("RXE_GUEST", "a") == "a" ? own_ip : peer_ip;
  SwiftdOptions options;
  options.socket_path = dir + "/swiftd.sock";
  options.devices = {EnvOr("RXE_DEV", "rxe0")};
  options.peer_address = absl::StrCat(own_ip, ":", kGuestPeerPort);
  options.peer_allow = {peer_ip};
  // Both guests must hold the same secret; this test's only.
  options.peer_secret = "two-guest directory test secret, 32+ bytes long";
  options.directory =
      absl::StrCat("etcd://", etcd_ip, ":", kGuestEtcdPort, "/swift-test");
  options.host_name = host_name;
  options.directory_ttl = kGuestDirectoryTtl;
  options.accept_timeout = absl::Seconds(10);
  return options;
}

std::string Message(int slot, uint8_t round) {
  std::string message = absl::StrCat("guest a, slot ", slot, ", round ",
                                     static_cast<int>(round), ": ping");
  message.resize(kMessageBytes - 1, '.');
  message.push_back(static_cast<char>(round));
  return message;
}

std::string Reply(const std::string& request) {
  // Reversed, so that an echo of the request's own bytes cannot pass.
  std::string reply(request.rbegin() + 1, request.rend());
  reply.push_back(request.back());
  return reply;
}

absl::StatusOr<std::string> AwaitMessage(const uint8_t* buffer, size_t offset,
                                         uint8_t round,
                                         absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const volatile uint8_t* last = buffer + offset + kMessageBytes - 1;
  while (*last != round) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no message of round ", static_cast<int>(round), " at offset ",
          offset, " within ", absl::FormatDuration(timeout), " (last byte ",
          static_cast<int>(*last), ")"));
    }
    absl::SleepFor(absl::Microseconds(200));
  }
  // The NIC wrote the message before its last byte became visible here.
  std::atomic_thread_fence(std::memory_order_acquire);
  return std::string(reinterpret_cast<const char*>(buffer + offset),
                     kMessageBytes);
}

}  // namespace swift::testing
