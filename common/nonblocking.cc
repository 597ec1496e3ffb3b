// SetNonBlocking; see nonblocking.h.
#include "common/nonblocking.h"

#include <fcntl.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace swift {

absl::Status SetNonBlocking(int fd, absl::string_view what) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fcntl(", what, ", O_NONBLOCK)"));
  }
  return absl::OkStatus();
}

}  // namespace swift
