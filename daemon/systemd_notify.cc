// NotifySystemd implementation; see systemd_notify.h.
#include "daemon/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace swift {

absl::Status NotifySystemd(absl::string_view state) {
  const char* target = std::getenv("NOTIFY_SOCKET");
  if (target == nullptr || *target == '\0') {
    return absl::OkStatus();
  }
  const size_t length = std::strlen(target);
  sockaddr_un address = {};
  if (length >= sizeof(address.sun_path) ||
      (target[0] != '/' && target[0] != '@')) {
    return absl::InvalidArgumentError(
        absl::StrCat("NOTIFY_SOCKET is not a usable path: '", target, "'"));
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, target, length);
  if (target[0] == '@') {
    address.sun_path[0] = '\0';  // Abstract namespace.
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_UNIX, SOCK_DGRAM)");
  }
  const socklen_t address_length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  ssize_t sent;
  do {
    sent = sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                  reinterpret_cast<sockaddr*>(&address), address_length);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    return ErrnoStatus(errno,
                       absl::StrCat("sendto(NOTIFY_SOCKET=", target, ")"));
  }
  return absl::OkStatus();
}

}  // namespace swift
