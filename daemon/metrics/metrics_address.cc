// ParseMetricsAddress() and CheckCanListen(); see metrics_address.h.
#include "daemon/metrics/metrics_address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace swift {
namespace {

constexpr char kForm[] =
    " (expected an IPv4 address and a port, e.g. 127.0.0.1:7472; an empty "
    "value turns metrics off)";

}  // namespace

std::string MetricsAddress::ToString() const {
  return absl::StrCat(ip, ":", port);
}

absl::StatusOr<MetricsAddress> ParseMetricsAddress(absl::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_address '", text, "' is not ip:port", kForm));
  }
  MetricsAddress address;
  address.ip = std::string(text.substr(0, colon));
  in_addr ip;
  if (inet_pton(AF_INET, address.ip.c_str(), &ip) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_address '", text, "': '", address.ip,
                     "' is not an IPv4 address", kForm));
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_address '", text, "': bad port", kForm));
  }
  address.port = static_cast<uint16_t>(port);
  return address;
}

absl::Status CheckCanListen(const MetricsAddress& address) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(address.port);
  if (inet_pton(AF_INET, address.ip.c_str(), &sin.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics_address: '", address.ip, "' is not an IPv4 address"));
  }
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "--metrics_address: socket(AF_INET)");
  }
  // As the HTTP server binds: a port left in TIME_WAIT by a previous
  // swiftd is not "in use".
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof(sin)) !=
          0 ||
      listen(fd.get(), 1) != 0) {
    const int error = errno;
    const std::string where =
        absl::StrCat("--metrics_address ", address.ToString());
    if (error == EADDRINUSE) {
      return absl::FailedPreconditionError(absl::StrCat(
          where,
          ": the port is in use (another swiftd or exporter?); choose "
          "another port, or an empty value to turn metrics off"));
    }
    if (error == EADDRNOTAVAIL) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": ", address.ip, " is not an address of this host"));
    }
    return ErrnoStatus(error, absl::StrCat(where, ": cannot listen"));
  }
  return absl::OkStatus();
}

}  // namespace swift
