/* swift_request_shared_context(); see shared_context_request.h. */
#include "client/preload/shared_context_request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/preload/fast_path_wire.h"

enum {
  kMessageMax = 4096, /* swiftd's answers here are far smaller. */
  kMaxFds = 4,        /* More than swiftd sends: extras are closed. */
};

/* Sends `request` and receives one answer, keeping its first fd in `*fd`
 * (-1 if none). Returns 0, or -1 with `why` written. */
static int RoundTrip(int socket_fd, const char* request, size_t length,
                     struct swift_wire_response* response, int* fd, char* why,
                     size_t why_size) {
  *fd = -1;
  if (send(socket_fd, request, length, MSG_NOSIGNAL) != (ssize_t)length) {
    snprintf(why, why_size, "send to swiftd: %s", strerror(errno));
    return -1;
  }
  char data[kMessageMax];
  union {
    struct cmsghdr header;
    char space[CMSG_SPACE(kMaxFds * sizeof(int))];
  } control;
  struct iovec iov = {data, sizeof(data)};
  struct msghdr message;
  memset(&message, 0, sizeof(message));
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.space;
  message.msg_controllen = sizeof(control.space);
  ssize_t received;
  do {
    received = recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received <= 0) {
    snprintf(why, why_size, "no answer from swiftd: %s",
             received == 0 ? "connection closed" : strerror(errno));
    return -1;
  }
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&message); c != NULL;
       c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int passed;
      memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (*fd < 0) {
        *fd = passed;
      } else {
        close(passed);
      }
    }
  }
  if ((message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
      swift_wire_parse_response(data, (size_t)received, response) != 0) {
    snprintf(why, why_size, "swiftd's answer is malformed or too long");
    if (*fd >= 0) close(*fd);
    *fd = -1;
    return -1;
  }
  return 0;
}

int swift_request_shared_context(const char* socket_path, const char* device,
                                 uint32_t* pd_handle, char* why,
                                 size_t why_size) {
  struct sockaddr_un address;
  memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  if (strlen(socket_path) >= sizeof(address.sun_path)) {
    snprintf(why, why_size, "socket path too long");
    return -1;
  }
  strcpy(address.sun_path, socket_path);
  const int socket_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (socket_fd < 0) {
    snprintf(why, why_size, "socket: %s", strerror(errno));
    return -1;
  }
  const struct timeval timeout = {1, 0};
  setsockopt(socket_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  int context_fd = -1;
  char request[512];
  struct swift_wire_response response;
  int passed = -1;
  if (connect(socket_fd, (const struct sockaddr*)&address, sizeof(address)) !=
      0) {
    snprintf(why, why_size, "cannot reach swiftd at %s: %s", socket_path,
             strerror(errno));
    goto out;
  }
  size_t length = swift_wire_hello(1, "swift_preload", (long)getpid(), request,
                                   sizeof(request));
  if (RoundTrip(socket_fd, request, length, &response, &passed, why,
                why_size) != 0) {
    goto out;
  }
  if (passed >= 0) close(passed);
  if (response.code != 0 || !response.has_hello) {
    snprintf(why, why_size, "swiftd refused the hello: %s", response.message);
    goto out;
  }
  length = swift_wire_share_context(2, device, request, sizeof(request));
  if (length == 0) {
    snprintf(why, why_size, "device name too long");
    goto out;
  }
  if (RoundTrip(socket_fd, request, length, &response, &passed, why,
                why_size) != 0) {
    goto out;
  }
  if (response.code != 0 || !response.has_share_context || passed < 0) {
    snprintf(why, why_size, "%s",
             response.code != 0 ? response.message
                                : "swiftd's answer carried no context");
    if (passed >= 0) close(passed);
    goto out;
  }
  *pd_handle = response.pd_handle;
  context_fd = passed;
out:
  close(socket_fd);
  return context_fd;
}

int swift_fast_path_beside(const char* hints_path, char* path, size_t size) {
  const char* slash = strrchr(hints_path, '/');
  const int directory = slash == NULL ? 1 : (int)(slash - hints_path);
  const int written = snprintf(path, size, "%.*s/swiftd.fast.sock", directory,
                               slash == NULL ? "." : hints_path);
  return written > 0 && (size_t)written < size ? 0 : -1;
}
