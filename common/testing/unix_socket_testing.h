// Unix-domain sockets bound by hand, for tests of code that meets them
// (stale sockets, live listeners, notify receivers).
#ifndef SWIFT_COMMON_TESTING_UNIX_SOCKET_TESTING_H_
#define SWIFT_COMMON_TESTING_UNIX_SOCKET_TESTING_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace swift::testing {

// A socket of `type` (SOCK_STREAM, SOCK_DGRAM) bound to `path`; a stream
// socket also listens when `listen_too`. EXPECTs that each step works.
inline UniqueFd BindUnixSocket(const std::string& path, int type,
                               bool listen_too) {
  UniqueFd fd(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  EXPECT_EQ(
      bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  if (listen_too) {
    EXPECT_EQ(listen(fd.get(), 4), 0);
  }
  return fd;
}

}  // namespace swift::testing

#endif  // SWIFT_COMMON_TESTING_UNIX_SOCKET_TESTING_H_
