// ProbeUnixSocket implementation; see unix_socket.h.
#include "common/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace swift {

absl::Status ProbeUnixSocket(absl::string_view path) {
  if (path.empty() || path.size() > kMaxUnixSocketPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket path must be 1 to ", kMaxUnixSocketPath,
                     " bytes long, got ", path.size(), ": '", path, "'"));
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_UNIX)");
  }
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  int rc;
  do {
    rc = connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                 sizeof(address));
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    return absl::OkStatus();
  }
  const int error = errno;
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat("no socket at ", path));
    case ECONNREFUSED:
      return absl::UnavailableError(
          absl::StrCat("nothing listens on ", path, " (stale socket file)"));
    default:
      return ErrnoStatus(error, absl::StrCat("connect(", path, ")"));
  }
}

std::string FastPathSocketPath(absl::string_view control_socket_path) {
  constexpr absl::string_view kSuffix = ".sock";
  if (absl::EndsWith(control_socket_path, kSuffix)) {
    control_socket_path.remove_suffix(kSuffix.size());
  }
  return absl::StrCat(control_socket_path, ".fast.sock");
}

std::string PreloadHintsPath(absl::string_view control_socket_path) {
  const size_t slash = control_socket_path.rfind('/');
  if (slash == absl::string_view::npos) {
    return "./preload.hints";
  }
  return absl::StrCat(control_socket_path.substr(0, slash + 1),
                      "preload.hints");
}

}  // namespace swift
