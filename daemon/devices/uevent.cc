// Kernel uevents; see uevent.h.
#include "daemon/devices/uevent.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errno_status.h"

namespace swift {

std::optional<Uevent> ParseUevent(absl::string_view datagram) {
  std::vector<absl::string_view> fields = absl::StrSplit(datagram, '\0');
  if (fields.empty()) {
    return std::nullopt;
  }
  const size_t at = fields[0].find('@');
  if (at == absl::string_view::npos || at == 0 ||
      absl::StartsWith(fields[0], "libudev")) {
    return std::nullopt;
  }
  Uevent event;
  event.action = std::string(fields[0].substr(0, at));
  event.devpath = std::string(fields[0].substr(at + 1));
  for (size_t i = 1; i < fields.size(); ++i) {
    absl::string_view field = fields[i];
    if (absl::ConsumePrefix(&field, "ACTION=")) {
      event.action = std::string(field);
    } else if (absl::ConsumePrefix(&field, "DEVPATH=")) {
      event.devpath = std::string(field);
    } else if (absl::ConsumePrefix(&field, "SUBSYSTEM=")) {
      event.subsystem = std::string(field);
    } else if (absl::ConsumePrefix(&field, "DEVNAME=")) {
      event.devname = std::string(field);
    }
  }
  return event;
}

bool IsRdmaUevent(const Uevent& event) {
  return event.subsystem == "infiniband" ||
         event.subsystem == "infiniband_verbs";
}

absl::StatusOr<UniqueFd> OpenUeventSocket() {
  UniqueFd fd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                     NETLINK_KOBJECT_UEVENT));
  if (fd.get() < 0) {
    return ErrnoStatus(errno, "socket(NETLINK_KOBJECT_UEVENT)");
  }
  sockaddr_nl address = {};
  address.nl_family = AF_NETLINK;
  address.nl_groups = 1;  // The kernel's own broadcasts (not udevd's).
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address),
           sizeof(address)) != 0) {
    return ErrnoStatus(errno, "bind(NETLINK_KOBJECT_UEVENT, group 1)");
  }
  return fd;
}

std::vector<Uevent> ReadUevents(int fd, bool& overrun) {
  std::vector<Uevent> events;
  char buffer[8192];
  while (true) {
    const ssize_t length = recv(fd, buffer, sizeof(buffer), 0);
    if (length < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == ENOBUFS) {
        overrun = true;
        continue;
      }
      break;  // EAGAIN: drained.
    }
    if (std::optional<Uevent> event =
            ParseUevent(absl::string_view(buffer, static_cast<size_t>(length)));
        event.has_value()) {
      events.push_back(*std::move(event));
    }
  }
  return events;
}

}  // namespace swift
