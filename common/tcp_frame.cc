// TCP framing; see tcp_frame.h.
#include "common/tcp_frame.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"

namespace swift {
namespace {

// Resolves `address` to an IPv4 sockaddr (Soft-RoCE setups are IPv4).
absl::StatusOr<sockaddr_in> Resolve(const HostPort& address) {
  sockaddr_in sin = {};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(address.port);
  if (inet_pton(AF_INET, address.host.c_str(), &sin.sin_addr) == 1) {
    return sin;
  }
  addrinfo hints = {};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (int rc = getaddrinfo(address.host.c_str(), nullptr, &hints, &result);
      rc != 0 || result == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot resolve '", address.host,
                                            "': ", gai_strerror(rc)));
  }
  sin.sin_addr = reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr;
  freeaddrinfo(result);
  return sin;
}

// Maps a send/recv errno; a timeout is EAGAIN on a blocking socket.
absl::Status IoStatus(int error_number, absl::string_view what) {
  if (error_number == EAGAIN || error_number == EWOULDBLOCK) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, ": peer silent past the I/O timeout"));
  }
  return ErrnoStatus(error_number, what);
}

// Reads `size` bytes (blocking, as long as the fd's I/O timeout allows).
absl::Status ReadExactly(int fd, char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = recv(fd, data + done, size - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0) {
      return absl::UnavailableError("recv: peer closed the connection");
    } else if (errno != EINTR) {
      return IoStatus(errno, "recv");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not host:port"));
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': bad port"));
  }
  return HostPort{std::string(text.substr(0, colon)),
                  static_cast<uint16_t>(port)};
}

absl::StatusOr<UniqueFd> ListenTcp(const HostPort& address) {
  absl::StatusOr<sockaddr_in> sin = Resolve(address);
  if (!sin.ok()) {
    return sin.status();
  }
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_INET, SOCK_STREAM)");
  }
  const int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return ErrnoStatus(errno, "setsockopt(SO_REUSEADDR)");
  }
  const std::string where = absl::StrCat(address.host, ":", address.port);
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&*sin), sizeof(*sin)) !=
      0) {
    return ErrnoStatus(errno, absl::StrCat("bind(", where, ")"));
  }
  // A deep backlog: dozens of client processes may connect at once, and a
  // SYN dropped on a full queue costs a 1 s retransmission.
  if (listen(fd.get(), SOMAXCONN) != 0) {
    return ErrnoStatus(errno, absl::StrCat("listen(", where, ")"));
  }
  return fd;
}

absl::StatusOr<uint16_t> LocalPort(int fd) {
  sockaddr_in sin = {};
  socklen_t length = sizeof(sin);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &length) != 0) {
    return ErrnoStatus(errno, "getsockname");
  }
  return ntohs(sin.sin_port);
}

absl::Status SetNoDelay(int fd) {
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return ErrnoStatus(errno, "setsockopt(TCP_NODELAY)");
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> AcceptTcp(int listen_fd) {
  for (;;) {
    UniqueFd fd(accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (fd.valid()) {
      if (absl::Status status = SetNoDelay(fd.get()); !status.ok()) {
        return status;
      }
      return fd;
    }
    if (errno != EINTR) {
      return ErrnoStatus(errno, "accept4");
    }
  }
}

namespace {

// The errno of the connect() in progress on `fd` once it ends (0: connected).
int FinishInterruptedConnect(int fd) {
  pollfd pending = {fd, POLLOUT, 0};
  while (poll(&pending, 1, -1) < 0) {
    if (errno != EINTR) {
      return errno;
    }
  }
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    return errno;
  }
  return error;
}

}  // namespace

absl::StatusOr<UniqueFd> ConnectTcp(const HostPort& address) {
  absl::StatusOr<sockaddr_in> sin = Resolve(address);
  if (!sin.ok()) {
    return sin.status();
  }
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_INET, SOCK_STREAM)");
  }
  if (absl::Status status = SetNoDelay(fd.get()); !status.ok()) {
    return status;
  }
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&*sin),
              sizeof(*sin)) != 0) {
    int error = errno;
    if (error == EINTR) {
      // A connect() interrupted by a signal keeps going in the background
      // (calling it again would fail with EALREADY): wait for its outcome,
      // as the uninterrupted call would have. Found by peer_link_fuzz.
      error = FinishInterruptedConnect(fd.get());
    }
    if (error != 0) {
      return ErrnoStatus(error, absl::StrCat("connect(", address.host, ":",
                                             address.port, ")"));
    }
  }
  return fd;
}

absl::Status SetIoTimeout(int fd, absl::Duration timeout) {
  const timeval tv = absl::ToTimeval(timeout);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return ErrnoStatus(errno, "setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)");
  }
  return absl::OkStatus();
}

std::string EncodeFrame(absl::string_view payload) {
  std::string frame(4, '\0');
  const uint32_t length = static_cast<uint32_t>(payload.size());
  frame[0] = static_cast<char>(length >> 24);
  frame[1] = static_cast<char>(length >> 16);
  frame[2] = static_cast<char>(length >> 8);
  frame[3] = static_cast<char>(length);
  frame.append(payload.data(), payload.size());
  return frame;
}

absl::Status SendFrame(int fd, absl::string_view payload) {
  const std::string frame = EncodeFrame(payload);
  size_t done = 0;
  while (done < frame.size()) {
    // MSG_NOSIGNAL: a vanished peer is a status, not a SIGPIPE.
    const ssize_t n =
        send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
    } else if (errno != EINTR) {
      return IoStatus(errno, "send");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> FrameLength(absl::string_view header, size_t max_bytes) {
  uint32_t length = 0;
  for (size_t i = 0; i < 4 && i < header.size(); ++i) {
    length = (length << 8) | static_cast<uint8_t>(header[i]);
  }
  if (length > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame of ", length, " bytes exceeds the limit of ", max_bytes));
  }
  return length;
}

absl::StatusOr<std::string> RecvFrame(int fd, size_t max_bytes) {
  char header[4];
  if (absl::Status status = ReadExactly(fd, header, sizeof(header));
      !status.ok()) {
    return status;
  }
  absl::StatusOr<size_t> length =
      FrameLength(absl::string_view(header, sizeof(header)), max_bytes);
  if (!length.ok()) {
    return length.status();
  }
  std::string payload(*length, '\0');
  if (absl::Status status = ReadExactly(fd, payload.data(), *length);
      !status.ok()) {
    return status;
  }
  return payload;
}

}  // namespace swift
