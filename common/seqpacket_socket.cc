// SeqpacketSocket and SeqpacketListener; see seqpacket_socket.h.
#include "common/seqpacket_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unix_socket.h"

namespace swift {
namespace {

absl::StatusOr<sockaddr_un> UnixAddress(absl::string_view path) {
  if (path.empty() || path.size() > kMaxUnixSocketPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket path must be 1 to ", kMaxUnixSocketPath,
                     " bytes long, got ", path.size()));
  }
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

}  // namespace

absl::StatusOr<SeqpacketSocket> SeqpacketSocket::Connect(
    absl::string_view path) {
  absl::StatusOr<sockaddr_un> address = UnixAddress(path);
  if (!address.ok()) {
    return address.status();
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
  }
  int rc;
  do {
    rc = connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address),
                 sizeof(*address));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("no socket at ", path));
    }
    if (errno == ECONNREFUSED) {
      return absl::UnavailableError(absl::StrCat("nothing listens on ", path));
    }
    return ErrnoStatus(errno, absl::StrCat("connect(", path, ")"));
  }
  return SeqpacketSocket(std::move(fd));
}

absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>>
SeqpacketSocket::Pair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus(errno, "socketpair(AF_UNIX, SOCK_SEQPACKET)");
  }
  return std::make_pair(SeqpacketSocket(UniqueFd(fds[0])),
                        SeqpacketSocket(UniqueFd(fds[1])));
}

absl::Status SeqpacketSocket::Send(absl::string_view message,
                                   const std::vector<int>& fds) {
  if (message.size() > kMaxSeqpacketMessage) {
    return absl::InvalidArgumentError(
        absl::StrCat("message of ", message.size(), " bytes exceeds ",
                     kMaxSeqpacketMessage));
  }
  if (fds.size() > static_cast<size_t>(kMaxSeqpacketFds)) {
    return absl::InvalidArgumentError(
        absl::StrCat(fds.size(), " fds exceed ", kMaxSeqpacketFds));
  }
  iovec io = {const_cast<char*>(message.data()), message.size()};
  msghdr header = {};
  header.msg_iov = &io;
  header.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxSeqpacketFds)];
  if (!fds.empty()) {
    header.msg_control = control;
    header.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent;
  do {
    sent = sendmsg(fd_.get(), &header, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno == EPIPE || errno == ECONNRESET) {
      return absl::UnavailableError("peer closed the connection");
    }
    return ErrnoStatus(errno, "sendmsg(SOCK_SEQPACKET)");
  }
  return absl::OkStatus();
}

absl::StatusOr<SeqpacketSocket::Message> SeqpacketSocket::Receive() {
  Message message;
  iovec io = {receive_buffer_.get(), kMaxSeqpacketMessage};
  msghdr header = {};
  header.msg_iov = &io;
  header.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxSeqpacketFds)];
  header.msg_control = control;
  header.msg_controllen = sizeof(control);
  ssize_t received;
  // A peer that closes with messages of ours unread makes the kernel
  // report ECONNRESET once, before the messages it sent us that are still
  // queued (a refusal answered, then closed before our hello was read):
  // read on once to get them (CI saw "peer closed" instead of swiftd's
  // answer).
  bool reset_reported = false;
  while (true) {
    received = recvmsg(fd_.get(), &header, MSG_CMSG_CLOEXEC);
    if (received >= 0) {
      break;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == ECONNRESET && !reset_reported) {
      reset_reported = true;
      continue;
    }
    break;
  }
  if (received < 0) {
    if (errno == ECONNRESET || reset_reported) {
      return absl::UnavailableError("peer closed the connection");
    }
    return ErrnoStatus(errno, "recvmsg(SOCK_SEQPACKET)");
  }
  // Take ownership of any fds first, so none leaks on the error paths.
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&header, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
      const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
        message.fds.emplace_back(fd);
      }
    }
  }
  if (received == 0) {
    return absl::UnavailableError("peer closed the connection");
  }
  if ((header.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    return absl::DataLossError("received message was truncated");
  }
  message.data.assign(receive_buffer_.get(), received);
  return message;
}

absl::StatusOr<SeqpacketListener> SeqpacketListener::Listen(
    absl::string_view path, int mode) {
  absl::StatusOr<sockaddr_un> address = UnixAddress(path);
  if (!address.ok()) {
    return address.status();
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
  }
  // fchmod on an unbound AF_UNIX socket sets the mode its file gets at
  // bind(), so no client can connect before the mode is right.
  if (fchmod(fd.get(), mode) != 0) {
    return ErrnoStatus(errno, "fchmod(socket)");
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&*address),
           sizeof(*address)) != 0) {
    return ErrnoStatus(errno, absl::StrCat("bind(", path, ")"));
  }
  // bind() masked the mode with the umask; set exactly what was asked.
  const std::string path_string(path);
  if (chmod(path_string.c_str(), mode) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chmod(", path, ")"));
  }
  if (listen(fd.get(), 128) != 0) {
    return ErrnoStatus(errno, absl::StrCat("listen(", path, ")"));
  }
  return SeqpacketListener(std::move(fd));
}

absl::StatusOr<SeqpacketSocket> SeqpacketListener::Accept() {
  int fd;
  do {
    fd = accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  } while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (fd < 0) {
    if (errno == EINVAL || errno == EBADF) {
      return absl::CancelledError("listener shut down");
    }
    return ErrnoStatus(errno, "accept4");
  }
  return SeqpacketSocket(UniqueFd(fd));
}

void SeqpacketListener::Shutdown() { shutdown(fd_.get(), SHUT_RDWR); }

}  // namespace swift
